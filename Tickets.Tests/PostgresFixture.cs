using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Tickets.Data;

namespace Tickets.Tests;

/// <summary>
/// The PostgreSQL every test runs against: TICKETS_TEST_CONNECTION_STRING when set (any server), otherwise the
/// project's local cluster, started on first use. Each test class gets a schema of its own with the migrations
/// applied, so classes run in parallel without seeing each other's rows.
/// With TICKETS_TEST_PGBOUNCER=1 the classes reach their schema through a local PgBouncer in transaction mode
/// (<see cref="LocalPgBouncer"/>, one per test run, a database alias per class); the server connection string,
/// for what needs the server itself, stays direct.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private static readonly Lazy<Task<string>> Server = new(StartServerAsync);
    private static readonly Lazy<Task<LocalPgBouncer>> Bouncer = new(async () => await LocalPgBouncer.StartAsync(await Server.Value));

    /// <summary>Whether this run goes through PgBouncer (TICKETS_TEST_PGBOUNCER=1).</summary>
    public static bool ThroughPgBouncer { get; } = Environment.GetEnvironmentVariable("TICKETS_TEST_PGBOUNCER") == "1";

    public string Schema { get; } = "t_" + Guid.NewGuid().ToString("N")[..16];
    public string ConnectionString { get; private set; } = "";

    /// <summary>This class's schema on the server itself, bypassing PgBouncer: for session settings a pooler does not pass on (<c>Options</c>).</summary>
    public string DirectConnectionString { get; private set; } = "";

    /// <summary>What <see cref="Database"/> needs for the way this run reaches PostgreSQL.</summary>
    public static PreparedStatements PreparedStatements => ThroughPgBouncer ? PreparedStatements.PerTransaction : PreparedStatements.Kept;
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
        DirectConnectionString = new NpgsqlConnectionStringBuilder(server) { SearchPath = Schema, MaxPoolSize = 200 }.ConnectionString;
        ConnectionString = ThroughPgBouncer
            ? new NpgsqlConnectionStringBuilder(await (await Bouncer.Value).AddDatabaseAsync(Schema, Schema)) { MaxPoolSize = 200 }.ConnectionString
            : DirectConnectionString;
        DataSource = NpgsqlDataSource.Create(ConnectionString);
        Database = new Database(DataSource, NullLogger<Database>.Instance) { PreparedStatements = PreparedStatements };
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
