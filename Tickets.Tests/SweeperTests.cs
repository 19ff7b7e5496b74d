using System.Text.Json;
using Dapper;
using Tickets.Data;

namespace Tickets.Tests;

public sealed class SweeperTests(PostgresFixture db) : EngineTestBase(db)
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Sweeper_ends_expired_holds_as_expired_and_returns_their_seats_in_batches()
    {
        var ev = await NewEventAsync(50);
        var live = (await Engine.HoldAsync(new HoldRequest(await NewUserAsync(), ev.Id, 1), None)).Reservation!;
        var expired = new List<Reservation>();
        for (var i = 0; i < 7; i++)
        {
            expired.Add((await Engine.HoldAsync(new HoldRequest(await NewUserAsync(), ev.Id, 2), None)).Reservation!);
        }
        foreach (var r in expired)
        {
            await ExpireAsync(r.Id);
        }
        var engine = new ReservationEngine(Db.Database, Microsoft.Extensions.Logging.Abstractions.NullLogger<ReservationEngine>.Instance) { SweepBatchSize = 3 };

        var result = await engine.ReleaseExpiredHoldsAsync(None);

        Assert.Equal(new SweepResult(7, 14), result);
        Assert.All(expired, r => Assert.Equal(ReservationStatus.Expired, engine.GetAsync(r.Id, null, None).Result!.Status));
        Assert.Equal(ReservationStatus.Hold, (await engine.GetAsync(live.Id, null, None))!.Status);
        Assert.Equal((49, 1), ((await ReloadAsync(ev.Id)).Available, (await ReloadAsync(ev.Id)).Held));
        Assert.Equal(new SweepResult(0, 0), await engine.ReleaseExpiredHoldsAsync(None));
        await AssertInvariantAsync();
    }

    [Fact]
    public async Task Finding_expired_holds_reads_a_batch_of_them_not_every_live_hold()
    {
        // 20,000 live holds and 5 expired ones. The sweep's first query once compared expires_at with
        // clock_timestamp(), which no index can stop at: every batch read every live hold, or the whole table.
        var ev = await NewEventAsync(30_000);
        var user = await NewUserAsync();
        await using var connection = await Db.DataSource.OpenConnectionAsync();
        await connection.ExecuteAsync("""
            with inserted as (
                insert into reservations (id, event_id, user_id, quantity, status, created_at, expires_at)
                select gen_random_uuid(), @Event, @User, 1, 'HOLD', now(), now() + case when n <= 5 then interval '-1 minute' else interval '1 hour' end
                from generate_series(1, 20000) n
                returning id
            )
            insert into reservation_lines (reservation_id, ticket_type_id, quantity, unit_price)
            select id, (select id from ticket_types where event_id = @Event), 1, 0 from inserted;
            update events set available = available - 20000, held = held + 20000 where id = @Event;
            update ticket_types set available = available - 20000, held = held + 20000 where event_id = @Event;
            analyze reservations;
            """, new { Event = ev.Id, User = user });

        var plan = JsonDocument.Parse(await connection.ExecuteScalarAsync<string>(
            "explain (analyze, format json) " + ReservationEngine.SweepCandidatesSql, new { BatchSize = 1000 }) ?? "").RootElement[0].GetProperty("Plan");
        var read = Nodes(plan).Where(n => n.TryGetProperty("Relation Name", out var table) && table.GetString() == "reservations")
            .Sum(n => (n.GetProperty("Actual Rows").GetDouble() + (n.TryGetProperty("Rows Removed by Filter", out var removed) ? removed.GetDouble() : 0))
                * n.GetProperty("Actual Loops").GetDouble());

        Assert.InRange(read, 5, 100);
        Assert.Equal(new SweepResult(5, 5), await Engine.ReleaseExpiredHoldsAsync(None));
        await AssertInvariantAsync();

        static IEnumerable<JsonElement> Nodes(JsonElement node) =>
            node.TryGetProperty("Plans", out var children) ? children.EnumerateArray().SelectMany(Nodes).Prepend(node) : [node];
    }

    [Fact]
    public async Task A_hold_locked_by_another_writer_is_left_for_the_next_run_without_spinning_on_it()
    {
        var ev = await NewEventAsync(10);
        var holds = new List<Reservation>();
        for (var i = 0; i < 4; i++)
        {
            holds.Add((await Engine.HoldAsync(new HoldRequest(await NewUserAsync(), ev.Id, 1), None)).Reservation!);
        }
        foreach (var hold in holds)
        {
            await ExpireAsync(hold.Id);
        }
        // The oldest expired hold's row is locked (not its event's): the sweep skips it, and once it is the only
        // one left, finding it twice in a row with nothing ended is the sign to stop, not to read it again forever.
        await using var other = await Db.DataSource.OpenConnectionAsync();
        await using var transaction = await other.BeginTransactionAsync();
        var locked = await other.ExecuteScalarAsync<Guid>(
            "select id from reservations where id = any(@Ids) order by expires_at limit 1 for update", new { Ids = holds.Select(h => h.Id).ToArray() }, transaction);
        var engine = new ReservationEngine(Db.Database, Microsoft.Extensions.Logging.Abstractions.NullLogger<ReservationEngine>.Instance) { SweepBatchSize = 2 };
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(10));

        Assert.Equal(new SweepResult(3, 3), await engine.ReleaseExpiredHoldsAsync(patience.Token));
        Assert.Equal(ReservationStatus.Hold, (await engine.GetAsync(locked, null, None))!.Status);
        await transaction.RollbackAsync();
        Assert.Equal(new SweepResult(1, 1), await engine.ReleaseExpiredHoldsAsync(None));
        await AssertInvariantAsync();
    }

    [Fact]
    public async Task Two_sweepers_at_once_release_each_hold_once()
    {
        var events = new List<Event>();
        for (var e = 0; e < 5; e++)
        {
            events.Add(await NewEventAsync(100));
        }
        var holds = new List<Reservation>();
        foreach (var ev in events)
        {
            for (var i = 0; i < 20; i++)
            {
                holds.Add((await Engine.HoldAsync(new HoldRequest(await NewUserAsync(), ev.Id, 1), None)).Reservation!);
            }
        }
        await using (var connection = await Db.DataSource.OpenConnectionAsync())
        {
            await connection.ExecuteAsync("update reservations set expires_at = now() - interval '1 second' where id = any(@Ids)", new { Ids = holds.Select(h => h.Id).ToArray() });
        }

        var results = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Task.Run(() =>
            new ReservationEngine(Db.Database, Microsoft.Extensions.Logging.Abstractions.NullLogger<ReservationEngine>.Instance) { SweepBatchSize = 7 }
                .ReleaseExpiredHoldsAsync(None))));

        Assert.Equal(100, results.Sum(r => r.Holds));
        Assert.Equal(100, results.Sum(r => r.Seats));
        foreach (var ev in events)
        {
            Assert.Equal(100, (await ReloadAsync(ev.Id)).Available);
        }
        await AssertInvariantAsync();
    }

    [Fact]
    public async Task Confirm_racing_the_sweeper_at_the_expiry_instant_ends_each_hold_exactly_once()
    {
        var ev = await NewEventAsync(1000);
        var confirmed = 0;
        var expired = 0;
        for (var round = 0; round < 40; round++)
        {
            var user = await NewUserAsync();
            var hold = (await Engine.HoldAsync(new HoldRequest(user, ev.Id, 1), None)).Reservation!;
            await using (var connection = await Db.DataSource.OpenConnectionAsync())
            {
                // Expire a few milliseconds from now so the two sides meet at the boundary.
                await connection.ExecuteAsync("update reservations set expires_at = clock_timestamp() + interval '3 milliseconds' where id = @Id", new { hold.Id });
            }
            var confirm = Task.Run(() => Engine.ConfirmAsync(user, hold.Id, None));
            var sweep = Task.Run(async () => { await Task.Delay(Random.Shared.Next(0, 6)); return await Engine.ReleaseExpiredHoldsAsync(None); });
            var (c, s) = (await confirm, await sweep);

            var final = (await Engine.GetAsync(hold.Id, null, None))!;
            if (c.Outcome == ChangeOutcome.Changed)
            {
                confirmed++;
                Assert.Equal(ReservationStatus.Confirmed, final.Status);
                Assert.Equal(0, s.Holds);
            }
            else
            {
                expired++;
                Assert.Equal(ChangeOutcome.Expired, c.Outcome);
                Assert.Equal(ReservationStatus.Expired, final.Status);
            }
            await AssertInvariantAsync();
        }
        var after = await ReloadAsync(ev.Id);
        Assert.Equal(confirmed, after.Confirmed);
        Assert.Equal(0, after.Held);
        Assert.Equal(40, confirmed + expired);
    }
}
