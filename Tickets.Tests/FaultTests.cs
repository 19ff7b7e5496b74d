using System.Collections.Concurrent;
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
/// A PostgreSQL cluster of its own (own data directory and port: stopping it touches no other test) with
/// Tickets.Server on top, for injecting faults: killed backends, an immediate shutdown and restart.
/// </summary>
public sealed class FaultFixture : IAsyncLifetime
{
    private PrivateCluster _cluster = null!;

    public LocalPostgres Postgres => _cluster.Postgres;
    public ServerHost Server { get; } = new();
    public NpgsqlDataSource DataSource { get; private set; } = null!;
    public Database Database { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _cluster = await PrivateCluster.StartAsync("faults", "tickets_faults");
        var verifier = new NpgsqlConnectionStringBuilder(_cluster.ConnectionString) { ApplicationName = "tickets-tests", Timeout = 2 };
        DataSource = NpgsqlDataSource.Create(verifier.ConnectionString);
        Database = new Database(DataSource, NullLogger<Database>.Instance);
        Server.Settings["ConnectionStrings:Tickets"] = _cluster.ConnectionString;
        Server.Settings["RateLimits:MaxActiveHoldsPerUser"] = "0";
        await Server.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        await DataSource.DisposeAsync();
        await _cluster.DisposeAsync();
    }

    public async Task<Guid> GuestAsync() => (await new UserStore(Database).CreateAsync(null, null, Roles.Guest, CancellationToken.None))!.Id;

    public string TokenFor(Guid userId, string role = Roles.Guest) => Server.Tokens.Issue(userId, role).AccessToken;

    public async Task<Guid> EventAsync(int capacity) =>
        (await new EventStore(Database).CreateAsync(new NewEvent($"Faults {Guid.NewGuid():N}", capacity), CancellationToken.None)).Id;

    public async Task AssertInvariantAsync() =>
        Assert.Empty(await Invariant.BrokenEventsAsync(DataSource, CancellationToken.None));
}

public sealed class FaultTests(FaultFixture fixture, ITestOutputHelper output) : IClassFixture<FaultFixture>
{
    /// <summary>A client that retries 503s with the same Idempotency-Key, as a well-behaved buyer app would.</summary>
    private static async Task<(HttpStatusCode Status, string Body, int Attempts)> SendWithRetriesAsync(
        HttpClient client, Func<HttpRequestMessage> request, ConcurrentBag<int> statuses)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var message = request();
            using var response = await client.SendAsync(message);
            statuses.Add((int)response.StatusCode);
            if (response.StatusCode != HttpStatusCode.ServiceUnavailable || attempt == 20)
            {
                return (response.StatusCode, await response.Content.ReadAsStringAsync(), attempt);
            }
            Assert.NotNull(response.Headers.RetryAfter);
            await Task.Delay(50 * attempt);
        }
    }

    /// <summary>
    /// With keys, batches go through the keyed whole-batch path (an explicit transaction); without, through the
    /// one-round-trip path, where a connection killed after the batch was sent is an unknown outcome (503).
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Killed_backends_mid_load_give_503_or_success_never_500_and_lose_nothing(bool withKeys)
    {
        // Without keys a retried hold may be a second hold (that is what keys are for): room for them.
        var eventId = await fixture.EventAsync(withKeys ? 400 : 10_000);
        var buyers = new List<(Guid User, HttpClient Client)>();
        for (var i = 0; i < 300; i++)
        {
            var user = await fixture.GuestAsync();
            buyers.Add((user, fixture.Server.NewClient(fixture.TokenFor(user))));
        }
        var statuses = new ConcurrentBag<int>();
        var held = new ConcurrentDictionary<Guid, Guid>();
        var confirmed = new ConcurrentBag<Guid>();
        using var stop = new CancellationTokenSource();
        var kills = 0;
        var killer = Task.Run(async () =>
        {
            await using var connection = await fixture.DataSource.OpenConnectionAsync();
            while (!stop.IsCancellationRequested)
            {
                kills += await connection.ExecuteScalarAsync<int>(
                    "select count(*)::int from (select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'tickets' and pid <> pg_backend_pid()) k");
                await Task.Delay(50);
            }
        });

        await Task.WhenAll(buyers.Select(b => Task.Run(async () =>
        {
            var key = Guid.NewGuid().ToString();
            var hold = await SendWithRetriesAsync(b.Client, () =>
            {
                var m = new HttpRequestMessage(HttpMethod.Post, "reservations/hold") { Content = JsonContent.Create(new { eventId, quantity = 1 }) };
                if (withKeys)
                {
                    m.Headers.Add(IdempotencyHeader.Name, key);
                }
                return m;
            }, statuses);
            if (hold.Status != HttpStatusCode.Created)
            {
                return;
            }
            var reservation = System.Text.Json.JsonSerializer.Deserialize<ReservationResponse>(hold.Body, ApiJson.Options)!;
            held[b.User] = reservation.Id;
            var confirm = await SendWithRetriesAsync(b.Client, () =>
            {
                var m = new HttpRequestMessage(HttpMethod.Post, $"reservations/{reservation.Id}/confirm");
                if (withKeys)
                {
                    m.Headers.Add(IdempotencyHeader.Name, key + "-confirm");
                }
                return m;
            }, statuses);
            if (confirm.Status == HttpStatusCode.OK)
            {
                confirmed.Add(reservation.Id);
            }
        })));
        await stop.CancelAsync();
        await killer;
        buyers.ForEach(b => b.Client.Dispose());

        output.WriteLine($"requests {statuses.Count}, backends killed {kills}, 503s {statuses.Count(s => s == 503)}, " +
            $"holds acknowledged {held.Count}, confirms acknowledged {confirmed.Count}");
        Assert.DoesNotContain(500, statuses);
        Assert.All(statuses, s => Assert.Contains(s, new[] { 200, 201, 503 }));
        Assert.True(kills > 0, "no backend was killed");
        await fixture.AssertInvariantAsync();
        await using var connection = await fixture.DataSource.OpenConnectionAsync();
        var rows = (await connection.QueryAsync<(Guid Id, Guid UserId, string Status)>(
            "select id, user_id, status from reservations where event_id = @EventId", new { EventId = eventId })).ToList();
        if (withKeys)
        {
            // One hold per buyer at most: retries with the same key never made a second one.
            Assert.Equal(rows.Count, rows.Select(r => r.UserId).Distinct().Count());
        }
        Assert.All(held, h => Assert.Contains(rows, r => r.Id == h.Value && r.UserId == h.Key));
        Assert.All(confirmed, id => Assert.Equal(ReservationStatus.Confirmed, rows.Single(r => r.Id == id).Status));
    }

    [Fact]
    public async Task Database_stop_and_restart_answers_503_fast_and_recovers_within_5_seconds()
    {
        var eventId = await fixture.EventAsync(1000);
        var user = await fixture.GuestAsync();
        using var client = fixture.Server.NewClient(fixture.TokenFor(user));
        // An earlier test of this class may have left the circuit breaker open: start from full service.
        for (var wait = Stopwatch.StartNew(); ; await Task.Delay(100))
        {
            using var probe = await client.PostAsJsonAsync("reservations/hold", new { eventId, quantity = 1 });
            if (probe.StatusCode == HttpStatusCode.Created || wait.Elapsed > TimeSpan.FromSeconds(10))
            {
                break;
            }
        }
        var acknowledged = new List<Guid>();
        for (var i = 0; i < 20; i++)
        {
            using var hold = await client.PostAsJsonAsync("reservations/hold", new { eventId, quantity = 1 });
            Assert.Equal(HttpStatusCode.Created, hold.StatusCode);
            acknowledged.Add((await hold.Content.ReadFromJsonAsync<ReservationResponse>())!.Id);
        }

        await fixture.Postgres.StopAsync("immediate");
        var stopped = Stopwatch.StartNew();
        var slowest = TimeSpan.Zero;
        HttpStatusCode healthStatus, holdStatus;
        do
        {
            var call = Stopwatch.StartNew();
            using var health = await client.GetAsync("health");
            using var hold = await client.PostAsJsonAsync("reservations/hold", new { eventId, quantity = 1 });
            slowest = call.Elapsed > slowest ? call.Elapsed : slowest;
            (healthStatus, holdStatus) = (health.StatusCode, hold.StatusCode);
            if (healthStatus == HttpStatusCode.ServiceUnavailable && holdStatus == HttpStatusCode.ServiceUnavailable)
            {
                await ProblemAssert.IsProblemAsync(hold, 503, ProblemCodes.DatabaseUnavailable);
                Assert.NotNull(hold.Headers.RetryAfter);
                Assert.NotNull(health.Headers.RetryAfter);
            }
        }
        while ((healthStatus, holdStatus) != (HttpStatusCode.ServiceUnavailable, HttpStatusCode.ServiceUnavailable) && stopped.Elapsed < TimeSpan.FromSeconds(10));
        var firstUnavailable = stopped.Elapsed;
        Assert.True(firstUnavailable < TimeSpan.FromSeconds(1), $"503 only after {firstUnavailable}");
        Assert.True(slowest < TimeSpan.FromSeconds(2), $"a request took {slowest} while the database was down");

        await Task.Delay(500);
        await fixture.Postgres.StartAgainAsync();
        var restarted = Stopwatch.StartNew();
        while (true)
        {
            using var health = await client.GetAsync("health");
            using var hold = await client.PostAsJsonAsync("reservations/hold", new { eventId, quantity = 1 });
            if (health.StatusCode == HttpStatusCode.OK && hold.StatusCode == HttpStatusCode.Created)
            {
                break;
            }
            Assert.True(restarted.Elapsed < TimeSpan.FromSeconds(5), $"not recovered after {restarted.Elapsed}: {health.StatusCode}/{hold.StatusCode}");
            await Task.Delay(100);
        }
        output.WriteLine($"first 503 {firstUnavailable.TotalMilliseconds:N0} ms after the stop, slowest request while down " +
            $"{slowest.TotalMilliseconds:N0} ms, full service {restarted.Elapsed.TotalMilliseconds:N0} ms after the restart");

        fixture.DataSource.Clear(); // this test's own pooled connections died with the server
        await using var connection = await fixture.DataSource.OpenConnectionAsync();
        var survived = await connection.ExecuteScalarAsync<int>("select count(*)::int from reservations where id = any(@Ids)", new { Ids = acknowledged.ToArray() });
        Assert.Equal(acknowledged.Count, survived);
        await fixture.AssertInvariantAsync();
    }

    [Fact]
    public async Task Sweeper_during_a_database_restart_ends_every_hold_exactly_once()
    {
        var eventId = await fixture.EventAsync(5000);
        var engine = new ReservationEngine(fixture.Database, NullLogger<ReservationEngine>.Instance) { SweepBatchSize = 25, SweepDutyCycle = 1 };
        var user = await fixture.GuestAsync();
        Guid[] holds;
        await using (var connection = await fixture.DataSource.OpenConnectionAsync())
        {
            // 5,000 expired one-seat holds, counters kept exact.
            holds = (await connection.QueryAsync<Guid>("""
                with inserted as (
                    insert into reservations (id, event_id, user_id, quantity, status, created_at, expires_at)
                    select gen_random_uuid(), @EventId, @User, 1, 'HOLD', now() - interval '10 minutes', now() - interval '1 second'
                    from generate_series(1, 5000)
                    returning id
                ), lines as (
                    insert into reservation_lines (reservation_id, ticket_type_id, quantity, unit_price)
                    select id, (select id from ticket_types where event_id = @EventId), 1, 0 from inserted
                ), counters as (
                    update events set available = available - 5000, held = held + 5000 where id = @EventId
                ), type_counters as (
                    update ticket_types set available = available - 5000, held = held + 5000 where event_id = @EventId
                )
                select id from inserted
                """, new { EventId = eventId, User = user })).ToArray();
        }

        var sweep = Task.Run(() => engine.ReleaseExpiredHoldsAsync(CancellationToken.None));
        await Task.Delay(100);
        await fixture.Postgres.StopAsync("immediate");
        var interrupted = await Record.ExceptionAsync(() => sweep);
        await fixture.Postgres.StartAgainAsync();
        fixture.DataSource.Clear();
        var released = 0;
        for (var attempt = 0; attempt < 50; attempt++)
        {
            try
            {
                released += (await engine.ReleaseExpiredHoldsAsync(CancellationToken.None)).Holds;
                break;
            }
            catch (DatabaseUnavailableException)
            {
                await Task.Delay(200); // the circuit breaker lets calls through again after its break
            }
        }
        output.WriteLine($"first sweep {(interrupted is null ? "finished before the stop" : "interrupted: " + interrupted.GetType().Name)}; " +
            $"{released} holds released after the restart");

        await using var check = await fixture.DataSource.OpenConnectionAsync();
        var statuses = (await check.QueryAsync<(string Status, bool Ended)>(
            "select status, ended_at is not null from reservations where id = any(@Ids)", new { Ids = holds })).ToList();
        Assert.Equal(5000, statuses.Count);
        Assert.All(statuses, s => Assert.Equal((ReservationStatus.Expired, true), s));
        await fixture.AssertInvariantAsync();
        var ev = await new EventStore(fixture.Database).GetAsync(eventId, CancellationToken.None);
        Assert.Equal((5000, 0), (ev!.Available, ev.Held));
    }
}
