using System.Text;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Tickets.Api;
using Tickets.Data;

namespace Tickets.Tests;

/// <summary>
/// Batches applied whole in one round trip (<see cref="ReservationEngine.TryHoldAllAsync"/>,
/// <see cref="ReservationEngine.TryChangeAllAsync"/>): they must write exactly what the request-by-request path would, and nothing at all when any request would not succeed.
/// </summary>
public sealed class WholeBatchTests(PostgresFixture db) : EngineTestBase(db)
{
    private static readonly CancellationToken None = CancellationToken.None;

    private ReservationEngine EngineWithCap(int maxActiveHolds, int maxHeldSeats = 0) =>
        new(Db.Database, NullLogger<ReservationEngine>.Instance) { MaxActiveHoldsPerUser = maxActiveHolds, MaxHeldSeatsPerUser = maxHeldSeats };

    private async Task<(int Reservations, int Available, int Held)> StateAsync(Guid eventId)
    {
        await using var connection = await Db.DataSource.OpenConnectionAsync();
        var reservations = await connection.ExecuteScalarAsync<int>("select count(*)::int from reservations where event_id = @Id", new { Id = eventId });
        var ev = await ReloadAsync(eventId);
        return (reservations, ev.Available, ev.Held);
    }

    [Fact]
    public async Task A_batch_that_fits_is_granted_whole_with_every_hold_written()
    {
        var first = await NewEventAsync(10, maxPerUser: 4);
        var second = await NewEventAsync(5);
        var (alice, bob) = (await NewUserAsync(), await NewUserAsync());
        HoldRequest[] requests =
        [
            new(alice, first.Id, 2), new(bob, second.Id, 3), new(alice, first.Id, 2), new(bob, first.Id, 1), new(alice, second.Id, 2),
        ];

        var results = await EngineWithCap(5).TryHoldAllAsync(requests, None);

        Assert.NotNull(results);
        Assert.All(results, r => Assert.Equal(HoldOutcome.Held, r.Outcome));
        Assert.Equal(requests.Select(r => (r.UserId, r.EventId, r.Quantity)), results.Select(r => (r.Reservation!.UserId, r.Reservation.EventId, r.Reservation.Quantity)));
        Assert.Equal((3, 5, 5), await StateAsync(first.Id));
        Assert.Equal((2, 0, 5), await StateAsync(second.Id));
        await using var connection = await Db.DataSource.OpenConnectionAsync();
        var rows = (await connection.QueryAsync<(Guid Id, string Status, DateTime CreatedAt, DateTime ExpiresAt)>(
            "select id, status, created_at, expires_at from reservations where id = any(@Ids)",
            new { Ids = results.Select(r => r.Reservation!.Id).ToArray() })).ToDictionary(r => r.Id);
        Assert.All(results, r =>
        {
            var row = rows[r.Reservation!.Id];
            Assert.Equal("HOLD", row.Status);
            Assert.Equal(row.CreatedAt, r.Reservation.CreatedAt);
            Assert.Equal(row.ExpiresAt, r.Reservation.ExpiresAt);
            Assert.Equal(row.CreatedAt.AddSeconds(first.HoldSeconds), row.ExpiresAt);
        });
        await AssertInvariantAsync();
    }

    public static TheoryData<string> Refusals => ["sold out", "sales not open", "sales closed", "per-user limit", "live-holds cap", "held-seats cap", "unknown event"];

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task A_batch_with_any_refusal_writes_nothing_in_one_round_trip_and_each_request_gets_its_own_answer(string refusal)
    {
        var now = DateTime.UtcNow;
        var ev = refusal switch
        {
            "sold out" => await NewEventAsync(4),
            "sales not open" => await NewEventAsync(10, opens: now.AddHours(1)),
            "sales closed" => await NewEventAsync(10, opens: now.AddHours(-2), closes: now.AddSeconds(-1)),
            "per-user limit" => await NewEventAsync(10, maxPerUser: 3),
            _ => await NewEventAsync(10),
        };
        var (alice, bob) = (await NewUserAsync(), await NewUserAsync());
        var engine = EngineWithCap(refusal == "live-holds cap" ? 2 : 0, refusal == "held-seats cap" ? 4 : 0);
        // Alice already holds a seat (two holds under the cap of two; two seats under the cap of four): the
        // per-user limit and the caps count them.
        for (var i = 0; i < refusal switch { "per-user limit" => 1, "live-holds cap" or "held-seats cap" => 2, _ => 0 }; i++)
        {
            Assert.Equal(HoldOutcome.Held, (await engine.HoldAsync(new HoldRequest(alice, ev.Id, 1), None)).Outcome);
        }
        var before = await StateAsync(ev.Id);
        var target = refusal == "unknown event" ? Guid.NewGuid() : ev.Id;
        HoldRequest[] requests = [new(bob, ev.Id, 2), new(alice, target, 3), new(bob, ev.Id, 1)];

        Assert.Null(await engine.TryHoldAllAsync(requests, None));
        Assert.Equal(before, await StateAsync(ev.Id));

        var (results, whole) = await engine.HoldBatchAsync(requests, None);
        Assert.False(whole);
        var expected = refusal switch
        {
            "sold out" => [HoldOutcome.Held, HoldOutcome.SoldOut, HoldOutcome.Held],
            "sales not open" => [HoldOutcome.SalesNotOpen, HoldOutcome.SalesNotOpen, HoldOutcome.SalesNotOpen],
            "sales closed" => [HoldOutcome.SalesClosed, HoldOutcome.SalesClosed, HoldOutcome.SalesClosed],
            "per-user limit" => [HoldOutcome.Held, HoldOutcome.LimitExceeded, HoldOutcome.Held],
            "live-holds cap" => [HoldOutcome.Held, HoldOutcome.TooManyActiveHolds, HoldOutcome.Held],
            "held-seats cap" => [HoldOutcome.Held, HoldOutcome.TooManyHeldSeats, HoldOutcome.Held],
            "unknown event" => [HoldOutcome.Held, HoldOutcome.EventNotFound, HoldOutcome.Held],
            _ => new[] { HoldOutcome.Held },
        };
        Assert.Equal(expected, results.Select(r => r.Outcome));
        await AssertInvariantAsync();
    }

    [Fact]
    public async Task A_hold_by_a_user_that_does_not_exist_fails_the_whole_round_trip_and_writes_nothing()
    {
        var ev = await NewEventAsync(10);
        HoldRequest[] requests = [new(await NewUserAsync(), ev.Id, 1), new(Guid.NewGuid(), ev.Id, 1)];

        var ex = await Assert.ThrowsAsync<PostgresException>(() => Engine.TryHoldAllAsync(requests, None));

        Assert.Equal(PostgresErrorCodes.ForeignKeyViolation, ex.SqlState);
        Assert.Equal((0, 10, 0), await StateAsync(ev.Id));
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(2, 0)]
    [InlineData(3, 0)]
    [InlineData(4, 20)]
    [InlineData(5, 20)]
    public async Task Batches_granted_whole_and_batches_decided_one_by_one_give_the_direct_paths_outcomes(int seed, int maxHeldSeats)
    {
        var random = new Random(seed);
        // Separate buyers per side: the live-holds cap counts a user's holds on every event.
        var directUsers = new List<Guid>();
        var batchedUsers = new List<Guid>();
        for (var i = 0; i < 8; i++)
        {
            directUsers.Add(await NewUserAsync());
            batchedUsers.Add(await NewUserAsync());
        }
        // With the seats cap, buyers stop sooner: a smaller second event still sells out.
        async Task<Guid[]> EventsAsync() => [(await NewEventAsync(400, maxPerUser: 12)).Id, (await NewEventAsync(maxHeldSeats == 0 ? 90 : 50)).Id];
        var direct = await EventsAsync();
        var batched = await EventsAsync();
        var sequence = Enumerable.Range(0, 200)
            .Select(_ => (User: random.Next(8), Event: random.Next(2), Quantity: random.Next(1, 4)))
            .ToList();
        var engine = EngineWithCap(14, maxHeldSeats);

        var directOutcomes = new List<HoldOutcome>();
        foreach (var (user, ev, quantity) in sequence)
        {
            directOutcomes.Add((await engine.HoldAsync(new HoldRequest(directUsers[user], direct[ev], quantity), None)).Outcome);
        }
        // Small batches, one at a time: early ones fit whole, later ones meet the limits and sold-out seats.
        var combiner = new HoldCombiner(engine, new BatchOptions { MaxBatchSize = 5, MaxConcurrentHoldBatches = 1 },
            NullLogger<HoldCombiner>.Instance);
        var paths = new List<bool>();
        combiner.HoldBatchCompleted += (_, whole) => { lock (paths) { paths.Add(whole); } };
        var block = await BlockEventsAsync(batched);
        var pending = sequence.Select(s => combiner.HoldAsync(new HoldRequest(batchedUsers[s.User], batched[s.Event], s.Quantity), None)).ToList();
        await UnblockAsync(block);
        var batchedOutcomes = (await Task.WhenAll(pending)).Select(r => r.Outcome).ToList();

        Assert.Equal(directOutcomes, batchedOutcomes);
        Assert.Contains(true, paths);
        Assert.Contains(false, paths);
        Assert.Contains(HoldOutcome.SoldOut, directOutcomes);
        Assert.Contains(HoldOutcome.LimitExceeded, directOutcomes);
        Assert.Contains(maxHeldSeats == 0 ? HoldOutcome.TooManyActiveHolds : HoldOutcome.TooManyHeldSeats, directOutcomes);
        for (var i = 0; i < 2; i++)
        {
            var (d, b) = (await ReloadAsync(direct[i]), await ReloadAsync(batched[i]));
            Assert.Equal((d.Available, d.Held), (b.Available, b.Held));
        }
        await AssertInvariantAsync();
    }

    [Fact]
    public async Task A_connection_lost_after_the_round_trip_was_sent_is_an_unknown_outcome_and_never_retried()
    {
        var database = new Database(Db.DataSource, NullLogger<Database>.Instance,
            new DatabaseResilienceOptions { MaxRetryAttempts = 3, RetryBaseDelay = TimeSpan.FromMilliseconds(1) })
        {
            PreparedStatements = PostgresFixture.PreparedStatements,
        };
        var attempts = 0;

        var ex = await Assert.ThrowsAsync<DatabaseUnavailableException>(() => database.InOneRoundTripAsync<int>((_, _) =>
        {
            attempts++;
            throw new NpgsqlException("Exception while reading from stream", new IOException("connection reset"));
        }, None));

        Assert.Equal(1, attempts);
        Assert.IsType<NpgsqlException>(ex.InnerException);
    }

    [Fact]
    public async Task A_round_trip_that_PostgreSQL_rolled_back_is_retried()
    {
        var database = new Database(Db.DataSource, NullLogger<Database>.Instance,
            new DatabaseResilienceOptions { MaxRetryAttempts = 3, RetryBaseDelay = TimeSpan.FromMilliseconds(1) })
        {
            PreparedStatements = PostgresFixture.PreparedStatements,
        };
        var attempts = 0;

        var result = await database.InOneRoundTripAsync((_, _) => ++attempts < 3
            ? throw new PostgresException("could not serialize access", "ERROR", "ERROR", PostgresErrorCodes.SerializationFailure)
            : Task.FromResult(attempts), None);

        Assert.Equal(3, result);
    }

    /// <summary>
    /// Two attempts sent at once while the event row is locked elsewhere (two instances' batches): both must wait
    /// for the lock, then they run one after the other.
    /// </summary>
    private async Task<T[]> RaceOnBlockedEventAsync<T>(Guid eventId, Func<Task<T>> attempt)
    {
        var block = await BlockEventsAsync(eventId);
        var first = attempt();
        var second = attempt();
        await Task.Delay(300);
        Assert.False(first.IsCompleted || second.IsCompleted, "a batch did not wait for the event lock");
        await UnblockAsync(block);
        return await Task.WhenAll(first, second);
    }

    [Fact]
    public async Task A_whole_batch_counts_the_holds_committed_while_it_waited_for_the_event_lock()
    {
        // Two instances send the same user's two holds at once while the event row is locked elsewhere: both
        // wait; whichever goes second must see the first one's holds (its decision runs after the lock).
        var ev = await NewEventAsync(100, maxPerUser: 2);
        var user = await NewUserAsync();
        HoldRequest[] twoSeats = [new(user, ev.Id, 1), new(user, ev.Id, 1)];

        var results = await RaceOnBlockedEventAsync(ev.Id, () => Engine.TryHoldAllAsync(twoSeats, None));

        Assert.Single(results, r => r is not null);
        Assert.Equal((2, 98, 2), await StateAsync(ev.Id));
        await AssertInvariantAsync();
    }

    [Fact]
    public async Task A_whole_batch_writes_its_holds_before_it_waits_for_the_event_lock_and_moves_the_counters_under_it()
    {
        // Instances' batches of one hot event do their inserts side by side; only the decision and the counters
        // wait for the row. While one waits, its rows are written (it holds the tables' write locks) but unseen.
        var ev = await NewEventAsync(10);
        var user = await NewUserAsync();
        var block = await BlockEventsAsync(ev.Id);
        var attempt = Engine.TryHoldAllAsync([new HoldRequest(user, ev.Id, 2)], None);

        await using var observer = await Db.DataSource.OpenConnectionAsync();
        int? waiting = null;
        for (var i = 0; i < 100 && waiting is null; i++)
        {
            waiting = await observer.ExecuteScalarAsync<int?>("""
                select pid from pg_stat_activity
                where datname = current_database() and wait_event_type = 'Lock' and query like '%for no key update%'
                limit 1
                """);
            if (waiting is null)
            {
                await Task.Delay(50);
            }
        }
        Assert.True(waiting is not null, "the batch never waited for the event's lock");
        var written = (await observer.QueryAsync<string>("""
            select c.relname
            from pg_locks l
            join pg_class c on c.oid = l.relation
            where l.pid = @Pid and l.granted and l.mode = 'RowExclusiveLock' and c.relname in ('reservations', 'reservation_lines')
            order by c.relname
            """, new { Pid = waiting })).ToArray();
        Assert.Equal(["reservation_lines", "reservations"], written);
        Assert.False(attempt.IsCompleted);
        Assert.Equal((0, 10, 0), await StateAsync(ev.Id));

        await UnblockAsync(block);
        var held = Assert.Single((await attempt)!);
        Assert.Equal(HoldOutcome.Held, held.Outcome);
        Assert.Equal((1, 8, 2), await StateAsync(ev.Id));
        await AssertInvariantAsync();
    }

    [Fact]
    public async Task A_keyed_batch_refused_after_writing_its_rows_leaves_its_connection_with_its_own_settings()
    {
        // The refusal rolls back to a savepoint set before the batch's settings, so they go with it.
        var ev = await NewEventAsync(1);
        var (alice, bob) = (await NewUserAsync(), await NewUserAsync());
        await using var lane = new ConnectionLane(Db.Database);
        const string settings = "select current_setting('plan_cache_mode') || ' ' || current_setting('enable_seqscan') || ' ' || current_setting('jit')";
        var before = await (await lane.OpenAsync(None)).ExecuteScalarAsync<string>(settings);

        var (results, whole) = await Engine.HoldBatchAsync([new(alice, ev.Id, 1, HoldKey("k1")), new(bob, ev.Id, 1, HoldKey("k2"))], None, lane);

        Assert.False(whole);
        Assert.Equal([HoldOutcome.Held, HoldOutcome.SoldOut], results.Select(r => r.Outcome));
        Assert.Equal(before, await (await lane.OpenAsync(None)).ExecuteScalarAsync<string>(settings));
        Assert.StartsWith("auto on", before);
        Assert.Equal((1, 0, 1), await StateAsync(ev.Id));
        await AssertInvariantAsync();
    }

    [Fact]
    public async Task Per_user_limits_hold_when_whole_batches_of_two_instances_race_on_one_event()
    {
        // Two combiners stand for two instances: their batches wait on each other's event lock, and each must
        // count the holds the other committed meanwhile.
        var ev = await NewEventAsync(10_000, maxPerUser: 2);
        var users = new List<Guid>();
        for (var i = 0; i < 40; i++)
        {
            users.Add(await NewUserAsync());
        }
        var options = new BatchOptions { MaxBatchSize = 16, MaxConcurrentHoldBatches = 1 };
        var instances = Enumerable.Range(0, 2).Select(_ => new HoldCombiner(Engine, options, NullLogger<HoldCombiner>.Instance)).ToArray();
        var wholeBatches = 0;
        foreach (var instance in instances)
        {
            instance.HoldBatchCompleted += (_, whole) => { if (whole) { Interlocked.Increment(ref wholeBatches); } };
        }

        var holds = users.SelectMany(user => Enumerable.Range(0, 8).Select(i => (user, instance: instances[i % 2])))
            .OrderBy(_ => Random.Shared.Next())
            .Select(x => Task.Run(() => x.instance.HoldAsync(new HoldRequest(x.user, ev.Id, 1), None)))
            .ToList();
        var results = await Task.WhenAll(holds);

        Assert.Equal(80, results.Count(r => r.Outcome == HoldOutcome.Held));
        Assert.Equal(240, results.Count(r => r.Outcome == HoldOutcome.LimitExceeded));
        await using var connection = await Db.DataSource.OpenConnectionAsync();
        var perUser = await connection.QueryAsync<int>(
            "select sum(quantity)::int from reservations where event_id = @Id group by user_id", new { ev.Id });
        Assert.All(perUser, seats => Assert.Equal(2, seats));
        Assert.True(wholeBatches > 0, "no batch was granted whole");
        await AssertInvariantAsync();
    }

    private async Task<Reservation> HeldAsync(Guid user, Guid eventId, int quantity) =>
        (await Engine.HoldAsync(new HoldRequest(user, eventId, quantity), None)).Reservation!;

    private async Task<(int Available, int Held, int Confirmed)> CountersAsync(Guid eventId)
    {
        var ev = await ReloadAsync(eventId);
        return (ev.Available, ev.Held, ev.Confirmed);
    }

    [Fact]
    public async Task Confirms_and_releases_that_all_apply_are_written_whole()
    {
        var (first, second) = (await NewEventAsync(10), await NewEventAsync(10));
        var (alice, bob) = (await NewUserAsync(), await NewUserAsync());
        var a = await HeldAsync(alice, first.Id, 2);
        var b = await HeldAsync(bob, first.Id, 3);
        var c = await HeldAsync(bob, second.Id, 4);
        ChangeRequest[] requests = [new(a.Id, alice, Transition.Confirm), new(b.Id, bob, Transition.Release), new(c.Id, bob, Transition.Confirm)];

        var results = await Engine.TryChangeAllAsync(requests, None);

        Assert.NotNull(results);
        Assert.All(results, r => Assert.Equal(ChangeOutcome.Changed, r.Outcome));
        Assert.Equal([ReservationStatus.Confirmed, ReservationStatus.Released, ReservationStatus.Confirmed], results.Select(r => r.Reservation!.Status));
        Assert.Equal((8, 0, 2), await CountersAsync(first.Id));
        Assert.Equal((6, 0, 4), await CountersAsync(second.Id));
        foreach (var result in results)
        {
            var stored = await Engine.GetAsync(result.Reservation!.Id, ownerId: null, None);
            Assert.Equal(result.Reservation, stored);
        }
        Assert.NotNull(results[0].Reservation!.ConfirmedAt);
        Assert.Null(results[0].Reservation!.EndedAt);
        Assert.NotNull(results[1].Reservation!.EndedAt);
        Assert.Null(results[1].Reservation!.ConfirmedAt);
        await AssertInvariantAsync();
    }

    public static TheoryData<string> ChangeRefusals => ["expired", "not the owner", "already confirmed", "unknown reservation"];

    [Theory]
    [MemberData(nameof(ChangeRefusals))]
    public async Task A_change_batch_with_any_request_that_would_not_change_its_hold_writes_nothing_in_one_round_trip(string refusal)
    {
        var ev = await NewEventAsync(10);
        var (alice, bob) = (await NewUserAsync(), await NewUserAsync());
        var a = await HeldAsync(alice, ev.Id, 1);
        var b = await HeldAsync(bob, ev.Id, 2);
        var odd = await HeldAsync(alice, ev.Id, 3);
        if (refusal == "expired")
        {
            await ExpireAsync(odd.Id);
        }
        if (refusal == "already confirmed")
        {
            Assert.Equal(ChangeOutcome.Changed, (await Engine.ConfirmAsync(alice, odd.Id, None)).Outcome);
        }
        var before = await CountersAsync(ev.Id);
        ChangeRequest[] requests =
        [
            new(a.Id, alice, Transition.Confirm),
            refusal switch
            {
                "not the owner" => new(odd.Id, bob, Transition.Confirm),
                "unknown reservation" => new(Guid.NewGuid(), alice, Transition.Confirm),
                _ => new(odd.Id, alice, Transition.Confirm),
            },
            new(b.Id, bob, Transition.Release),
        ];

        Assert.Null(await Engine.TryChangeAllAsync(requests, None));
        Assert.Equal(before, await CountersAsync(ev.Id));
        Assert.Equal(ReservationStatus.Hold, (await Engine.GetAsync(a.Id, null, None))!.Status);

        var (results, whole) = await Engine.ChangeBatchAsync(requests, None);
        Assert.False(whole);
        var middle = refusal switch
        {
            "expired" => ChangeOutcome.Expired,
            "already confirmed" => ChangeOutcome.Unchanged,
            _ => ChangeOutcome.NotFound,
        };
        Assert.Equal([ChangeOutcome.Changed, middle, ChangeOutcome.Changed], results.Select(r => r.Outcome));
        await AssertInvariantAsync();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Change_batches_applied_whole_and_decided_one_by_one_give_the_direct_paths_outcomes(int seed)
    {
        var random = new Random(seed);
        var users = new List<Guid>();
        for (var i = 0; i < 4; i++)
        {
            users.Add(await NewUserAsync());
        }
        async Task<(Guid Event, List<Reservation> Holds)> SideAsync()
        {
            var ev = await NewEventAsync(200);
            var holds = new List<Reservation>();
            for (var i = 0; i < 40; i++)
            {
                holds.Add(await HeldAsync(users[i % users.Count], ev.Id, 1 + i % 3));
            }
            return (ev.Id, holds);
        }
        var direct = await SideAsync();
        var batched = await SideAsync();
        // Mostly each hold confirmed or released once by its owner; now and then a second request for the same
        // hold, or one by someone else.
        var sequence = Enumerable.Range(0, 40).OrderBy(_ => random.Next())
            .Select(i => (Hold: i, Owner: random.Next(12) == 0 ? (i + 1) % users.Count : i % users.Count,
                Transition: random.Next(3) == 0 ? Transition.Release : Transition.Confirm))
            .SelectMany(x => random.Next(10) == 0 ? new[] { x, x with { Transition = Transition.Confirm } } : [x])
            .ToList();

        var directOutcomes = new List<ChangeOutcome>();
        foreach (var (hold, owner, transition) in sequence)
        {
            directOutcomes.Add((await Engine.ChangeAsync(new ChangeRequest(direct.Holds[hold].Id, users[owner], transition), None)).Outcome);
        }
        var combiner = new HoldCombiner(Engine, new BatchOptions { MaxBatchSize = 4, MaxConcurrentChangeBatches = 1 }, NullLogger<HoldCombiner>.Instance);
        var paths = new List<bool>();
        combiner.ChangeBatchCompleted += (_, whole) => { lock (paths) { paths.Add(whole); } };
        var block = await BlockEventsAsync(batched.Event);
        var pending = sequence.Select(s => s.Transition == Transition.Confirm
            ? combiner.ConfirmAsync(users[s.Owner], batched.Holds[s.Hold].Id, None)
            : combiner.ReleaseAsync(users[s.Owner], batched.Holds[s.Hold].Id, None)).ToList();
        await UnblockAsync(block);
        var batchedOutcomes = (await Task.WhenAll(pending)).Select(r => r.Outcome).ToList();

        Assert.Equal(directOutcomes, batchedOutcomes);
        Assert.Contains(true, paths);
        Assert.Contains(false, paths);
        Assert.Contains(ChangeOutcome.NotFound, directOutcomes);
        Assert.Equal(await CountersAsync(direct.Event), await CountersAsync(batched.Event));
        await AssertInvariantAsync();
    }

    [Fact]
    public async Task A_whole_change_batch_sees_the_changes_committed_while_it_waited_for_the_event_lock()
    {
        var ev = await NewEventAsync(10);
        var user = await NewUserAsync();
        var hold = await HeldAsync(user, ev.Id, 2);
        ChangeRequest[] confirm = [new(hold.Id, user, Transition.Confirm)];

        var results = await RaceOnBlockedEventAsync(ev.Id, () => Engine.TryChangeAllAsync(confirm, None));

        Assert.Single(results, r => r is not null);
        Assert.Equal((8, 0, 2), await CountersAsync(ev.Id));
        await AssertInvariantAsync();
    }

    private static IdempotencyKey<HoldResult> HoldKey(string key) =>
        new(key, IdempotencyHeader.Hash("hold", key), r => Task.FromResult(new StoredResponse(
            r.Outcome == HoldOutcome.Held ? 201 : 409, "application/json", Encoding.UTF8.GetBytes($"{r.Outcome}:{r.Reservation?.Id}"), null)));

    private static IdempotencyKey<ChangeResult> ConfirmKey(string key) =>
        new(key, IdempotencyHeader.Hash("confirm", key), r => Task.FromResult(new StoredResponse(
            200, "application/json", Encoding.UTF8.GetBytes($"{r.Outcome}:{r.Reservation?.Status}"), null)));

    private async Task<Dictionary<string, string>> StoredBodiesAsync(Guid user)
    {
        await using var connection = await Db.DataSource.OpenConnectionAsync();
        return (await connection.QueryAsync<(string Key, byte[] Body)>("select key, body from idempotency_keys where user_id = @User", new { User = user }))
            .ToDictionary(r => r.Key, r => Encoding.UTF8.GetString(r.Body));
    }

    [Fact]
    public async Task Keyed_holds_granted_whole_store_their_responses_in_the_same_transaction_and_replay_them()
    {
        var ev = await NewEventAsync(10);
        var (alice, bob) = (await NewUserAsync(), await NewUserAsync());
        HoldRequest[] requests = [new(alice, ev.Id, 1, HoldKey("a1")), new(bob, ev.Id, 2), new(alice, ev.Id, 3, HoldKey("a2"))];

        var (results, whole) = await Engine.HoldBatchAsync(requests, None);

        Assert.True(whole);
        Assert.All(results, r => Assert.Equal(HoldOutcome.Held, r.Outcome));
        Assert.Equal(new Dictionary<string, string>
        {
            ["a1"] = $"Held:{results[0].Reservation!.Id}",
            ["a2"] = $"Held:{results[2].Reservation!.Id}",
        }, await StoredBodiesAsync(alice));

        // The retry of a2 with a new hold beside it: the used key sends the batch request by request.
        var (retried, retriedWhole) = await Engine.HoldBatchAsync([new(bob, ev.Id, 1, HoldKey("b1")), new(alice, ev.Id, 3, HoldKey("a2"))], None);
        Assert.False(retriedWhole);
        Assert.Equal([HoldOutcome.Held, HoldOutcome.Replayed], retried.Select(r => r.Outcome));
        Assert.Equal(Encoding.UTF8.GetBytes($"Held:{results[2].Reservation!.Id}"), retried[1].Replay!.Body);
        Assert.Equal((4, 3, 7), await StateAsync(ev.Id));
        await AssertInvariantAsync();
    }

    [Fact]
    public async Task One_key_twice_in_a_batch_is_decided_one_by_one_and_holds_once()
    {
        var ev = await NewEventAsync(10);
        var alice = await NewUserAsync();

        var (results, whole) = await Engine.HoldBatchAsync([new(alice, ev.Id, 2, HoldKey("twice")), new(alice, ev.Id, 2, HoldKey("twice"))], None);

        Assert.False(whole);
        Assert.Equal([HoldOutcome.Held, HoldOutcome.Replayed], results.Select(r => r.Outcome));
        Assert.Equal((1, 8, 2), await StateAsync(ev.Id));
    }

    [Fact]
    public async Task Keyed_confirms_applied_whole_store_their_responses_and_replay_them()
    {
        var ev = await NewEventAsync(10);
        var alice = await NewUserAsync();
        var first = await HeldAsync(alice, ev.Id, 1);
        var second = await HeldAsync(alice, ev.Id, 2);

        var (results, whole) = await Engine.ChangeBatchAsync(
            [new(first.Id, alice, Transition.Confirm, ConfirmKey("c1")), new(second.Id, alice, Transition.Release, ConfirmKey("r2"))], None);

        Assert.True(whole);
        Assert.Equal([ChangeOutcome.Changed, ChangeOutcome.Changed], results.Select(r => r.Outcome));
        Assert.Equal(new Dictionary<string, string> { ["c1"] = "Changed:CONFIRMED", ["r2"] = "Changed:RELEASED" }, await StoredBodiesAsync(alice));
        var (retried, retriedWhole) = await Engine.ChangeBatchAsync([new(first.Id, alice, Transition.Confirm, ConfirmKey("c1"))], None);
        Assert.False(retriedWhole);
        Assert.Equal(ChangeOutcome.Replayed, retried[0].Outcome);
        Assert.Equal((9, 0, 1), await CountersAsync(ev.Id));
        await AssertInvariantAsync();
    }

    [Fact]
    public async Task Whole_batch_plans_are_never_jit_compiled_whatever_their_estimated_cost()
    {
        // Every plan costs more than jit_above_cost here, as the hold statement's did once the statistics showed a
        // user with 100,000 holds: JIT code is not kept with a cached plan, so each batch compiled it anew (40–70 ms).
        var connectionString = new NpgsqlConnectionStringBuilder(Db.DirectConnectionString) { Options = "-c jit_above_cost=0" }.ConnectionString;
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        var database = new Database(dataSource, NullLogger<Database>.Instance);
        var engine = new ReservationEngine(database, NullLogger<ReservationEngine>.Instance) { MaxActiveHoldsPerUser = 5 };
        var (ev, user) = (await NewEventAsync(10, maxPerUser: 4), await NewUserAsync());
        await using var lane = new ConnectionLane(database);

        var held = Assert.Single((await engine.TryHoldAllAsync([new HoldRequest(user, ev.Id, 1)], None, lane))!);
        Assert.NotNull(await engine.TryChangeAllAsync([new ChangeRequest(held.Reservation!.Id, user, Transition.Confirm)], None, lane));

        // The plans the batches made and keep on their connection, explained with this session's settings back.
        var connection = await lane.OpenAsync(None);
        await connection.ExecuteAsync("set plan_cache_mode = force_generic_plan");
        async Task<string> ExplainAsync(string sql) => string.Join("\n", await connection.QueryAsync<string>(sql));
        Assert.True(await connection.ExecuteScalarAsync<bool>("select pg_jit_available()"), "This server has no JIT: the test would prove nothing.");
        Assert.Contains("JIT:", await ExplainAsync("explain select count(*) from reservations"));
        var statements = (await connection.QueryAsync<(string Name, int Parameters)>("""
            select name, cardinality(parameter_types)
            from pg_prepared_statements
            where statement like '%reservations%' and generic_plans > 0
            """)).ToList();
        Assert.True(statements.Count >= 2, string.Join(" | ", statements)); // the hold batch's and the confirm batch's at least
        foreach (var (name, parameters) in statements)
        {
            var plan = await ExplainAsync($"explain execute {name}({string.Join(", ", Enumerable.Repeat("null", parameters))})");
            Assert.DoesNotContain("JIT:", plan);
        }
    }
}
