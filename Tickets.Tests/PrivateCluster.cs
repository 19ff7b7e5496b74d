using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Tickets.Data;

namespace Tickets.Tests;

/// <summary>
/// A PostgreSQL cluster of a test class's own, for tests that stop, crash or restart the database. Its data
/// folder is where the shared local cluster's would be (under the clone, or /var/tmp where the postgres user
/// cannot reach the clone), and it is deleted on dispose.
/// </summary>
public sealed class PrivateCluster : IAsyncDisposable
{
    private PrivateCluster(LocalPostgres postgres, string connectionString)
    {
        Postgres = postgres;
        ConnectionString = connectionString;
    }

    public LocalPostgres Postgres { get; }
    public string ConnectionString { get; }

    /// <summary>
    /// A new cluster on a port that is free right now, with the migrations applied. Ports come from the kernel
    /// (bind to port 0), and a start that loses the race for the port to some other socket is retried on another.
    /// </summary>
    public static async Task<PrivateCluster> StartAsync(string name, string database)
    {
        for (var attempt = 1; ; attempt++)
        {
            int port;
            using (var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0))
            {
                probe.Start();
                port = ((IPEndPoint)probe.LocalEndpoint).Port;
            }
            var postgres = new LocalPostgres(NullLogger.Instance, LocalPostgres.DataDirectoryFor($"postgres-{name}-{Guid.NewGuid():N}"), port);
            try
            {
                var connectionString = await postgres.EnsureStartedAsync(database);
                await using (var dataSource = NpgsqlDataSource.Create(connectionString))
                {
                    await Migrator.MigrateAsync(dataSource, NullLogger.Instance, CancellationToken.None);
                }
                return new PrivateCluster(postgres, connectionString);
            }
            catch (InvalidOperationException) when (attempt < 3)
            {
                Delete(postgres);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Postgres.StopAsync("immediate");
        Delete(Postgres);
    }

    private static void Delete(LocalPostgres postgres)
    {
        if (Directory.Exists(postgres.DataDirectory))
        {
            Directory.Delete(postgres.DataDirectory, recursive: true);
        }
        File.Delete(postgres.DataDirectory + ".lock");
    }
}
