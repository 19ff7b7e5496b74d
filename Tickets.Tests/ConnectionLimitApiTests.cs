// Connection budgeting (docs/scaling.md): instances × Max Pool Size must stay under what the database accepts. When
// the sum is wrong, or the database is out of connections for another reason, PostgreSQL refuses new connections
// ("too many connections", 53300): the app must answer 503 + Retry-After, never a 500 and never hang.
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Tickets.Api;
using Tickets.Data;

namespace Tickets.Tests;

/// <summary>
/// A host whose database login has a connection limit of its own (<c>CONNECTION LIMIT</c>, set per test), far
/// below the host's pool (Npgsql's default Max Pool Size, 100): the same refusal PostgreSQL gives when
/// max_connections is used up, for this host alone, on the shared test cluster. Straight to PostgreSQL, never
/// through PgBouncer (whose own limit would answer first).
/// </summary>
public sealed class ConnectionLimitFixture<THost> : IAsyncLifetime where THost : ApiHost, new()
{
    public THost Host { get; } = new();

    public string Role => Host.Db.Schema + "_limited";

    public async Task InitializeAsync()
    {
        var server = await PostgresFixture.ServerConnectionString;
        await using (var admin = NpgsqlDataSource.Create(server))
        await using (var create = admin.CreateCommand($"create role {Role} login"))
        {
            await create.ExecuteNonQueryAsync();
        }
        Host.Settings["ConnectionStrings:Tickets"] = new NpgsqlConnectionStringBuilder(server)
        {
            Username = Role,
            SearchPath = Host.Db.Schema,
        }.ConnectionString;
        // Starts before the role has its privileges (the schema is made by the host's start): its warm-up reads fail.
        await Host.InitializeAsync();
        await AppRole.EnsureAsync(Host.Db.DataSource, Role, "unused-with-trust-authentication", CancellationToken.None);
    }

    /// <summary>How many connections PostgreSQL accepts from the host from now on (already open ones stay).</summary>
    public async Task LimitAsync(int connections)
    {
        await using var connection = await Host.Db.DataSource.OpenConnectionAsync();
        await connection.ExecuteAsync($"alter role {Role} connection limit {connections}");
        // Connections the host opened before keep counting against the new limit; end them, as a failover would.
        await connection.ExecuteAsync("select pg_terminate_backend(pid) from pg_stat_activity where usename = @Role", new { Role });
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        await using var admin = NpgsqlDataSource.Create(await PostgresFixture.ServerConnectionString);
        await using var drop = admin.CreateCommand($"drop owned by {Role}; drop role {Role}");
        await drop.ExecuteNonQueryAsync();
    }
}

public abstract class ConnectionLimitApiTests(ApiHost host, Func<int, Task> limit, ITestOutputHelper output) : HostTests(host, output)
{
    public sealed class Server(ConnectionLimitFixture<ServerHost> fixture, ITestOutputHelper output)
        : ConnectionLimitApiTests(fixture.Host, fixture.LimitAsync, output), IClassFixture<ConnectionLimitFixture<ServerHost>>;

    public sealed class Functions(ConnectionLimitFixture<FunctionsHost> fixture, ITestOutputHelper output)
        : ConnectionLimitApiTests(fixture.Host, fixture.LimitAsync, output), IClassFixture<ConnectionLimitFixture<FunctionsHost>>;

    private async Task<(Guid Event, string[] Tokens)> EventAndBuyersAsync(int capacity, int buyers)
    {
        // Made behind the API's back: the host itself may not be able to reach the database.
        var ev = await new EventStore(Host.Db.Database).CreateAsync(new NewEvent("Limited", capacity), CancellationToken.None);
        var users = new UserStore(Host.Db.Database);
        var tokens = new List<string>();
        for (var i = 0; i < buyers; i++)
        {
            var user = await users.CreateAsync(null, null, Roles.Guest, CancellationToken.None);
            tokens.Add(Host.Tokens.Issue(user!.Id, Roles.Guest).AccessToken);
        }
        return (ev.Id, [.. tokens]);
    }

    [Fact]
    public async Task A_database_that_refuses_every_connection_gets_503_with_retry_after_within_seconds()
    {
        var (eventId, tokens) = await EventAndBuyersAsync(10, 1);
        await limit(0);
        using var client = Host.NewClient(tokens[0]);

        var clock = Stopwatch.StartNew();
        using var hold = await client.PostAsJsonAsync("reservations/hold", new { eventId, quantity = 1 });

        await ProblemAssert.IsProblemAsync(hold, 503, ProblemCodes.DatabaseUnavailable);
        Assert.NotNull(hold.Headers.RetryAfter);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"answered after {clock.Elapsed}");
        await using var connection = await Host.Db.DataSource.OpenConnectionAsync();
        Assert.Equal(0, await connection.ExecuteScalarAsync<int>("select count(*)::int from reservations where event_id = @eventId", new { eventId }));
    }

    [Fact]
    public async Task More_concurrent_buyers_than_the_database_allows_connections_each_get_a_hold_or_503_never_500_or_a_hang()
    {
        var (eventId, tokens) = await EventAndBuyersAsync(1_000, 60);
        await limit(2);

        var clock = Stopwatch.StartNew();
        var answers = await Task.WhenAll(tokens.Select(async token =>
        {
            using var client = Host.NewClient(token);
            client.Timeout = TimeSpan.FromSeconds(60);
            using var hold = await client.PostAsJsonAsync("reservations/hold", new { eventId, quantity = 1 });
            return (hold.StatusCode, RetryAfter: hold.Headers.RetryAfter is not null);
        }));
        Assert.All(answers, a => Assert.Contains(a.StatusCode, new[] { HttpStatusCode.Created, HttpStatusCode.ServiceUnavailable }));
        Assert.All(answers.Where(a => a.StatusCode == HttpStatusCode.ServiceUnavailable), a => Assert.True(a.RetryAfter));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"the last answer came after {clock.Elapsed} " +
            $"({answers.Count(a => a.StatusCode == HttpStatusCode.Created)} holds, {answers.Count(a => a.StatusCode == HttpStatusCode.ServiceUnavailable)} 503s)");
        // Every 201 is a held seat and nothing else is: the refusals changed nothing.
        var held = answers.Count(a => a.StatusCode == HttpStatusCode.Created);
        await using var connection = await Host.Db.DataSource.OpenConnectionAsync();
        Assert.Equal(held, await connection.ExecuteScalarAsync<int>("select count(*)::int from reservations where event_id = @eventId", new { eventId }));
        Assert.Equal(held, await connection.ExecuteScalarAsync<int>("select held from events where id = @eventId", new { eventId }));
        Assert.Empty(await Invariant.BrokenEventsAsync(Host.Db.DataSource, CancellationToken.None));
    }
}
