using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Tickets.Data;

namespace Tickets.Tests;

/// <summary>
/// The PostgreSQL every test runs against: TICKETS_TEST_CONNECTION_STRING when set (any server), otherwise the
/// project's local cluster, started on first use. Each test class gets a schema of its own with the migrations
/// applied, so classes run in parallel without seeing each other's rows.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private static readonly Lazy<Task<string>> Server = new(StartServerAsync);

    public string Schema { get; } = "t_" + Guid.NewGuid().ToString("N")[..16];
    public string ConnectionString { get; private set; } = "";
    public NpgsqlDataSource DataSource { get; private set; } = null!;
    public Database Database { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var server = await Server.Value;
        await using (var admin = NpgsqlDataSource.Create(server))
        await using (var create = admin.CreateCommand($"create schema {Schema}"))
        {
            await create.ExecuteNonQueryAsync();
        }
        ConnectionString = new NpgsqlConnectionStringBuilder(server) { SearchPath = Schema, MaxPoolSize = 200 }.ConnectionString;
        DataSource = NpgsqlDataSource.Create(ConnectionString);
        Database = new Database(DataSource, NullLogger<Database>.Instance);
        await Migrator.MigrateAsync(DataSource, NullLogger.Instance, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await DataSource.DisposeAsync();
        await using var admin = NpgsqlDataSource.Create(await Server.Value);
        await using var drop = admin.CreateCommand($"drop schema if exists {Schema} cascade");
        await drop.ExecuteNonQueryAsync();
    }

    public static Task<string> ServerConnectionString => Server.Value;

    private static async Task<string> StartServerAsync()
    {
        var configured = Environment.GetEnvironmentVariable("TICKETS_TEST_CONNECTION_STRING");
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return configured;
        }
        var local = new LocalPostgres(NullLogger.Instance);
        return await local.EnsureStartedAsync("tickets_test");
    }
}
