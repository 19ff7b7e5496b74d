using System.Diagnostics;
using Dapper;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Tickets.Data;

public sealed record HoldRequest(Guid UserId, Guid EventId, int Quantity, IdempotencyKey<HoldResult>? Idempotency = null);

public enum Transition
{
    Confirm,
    Release,
    Cancel,
}

/// <summary>A change of one reservation; <paramref name="OwnerId"/> null means an admin acting on anyone's.</summary>
public sealed record ChangeRequest(Guid ReservationId, Guid? OwnerId, Transition Transition, IdempotencyKey<ChangeResult>? Idempotency = null);

/// <summary>
/// Hold, confirm, release, cancel and the expiry sweep.
/// Lock order, everywhere: the event row first (<c>FOR NO KEY UPDATE</c>), then its reservations. Every writer
/// of a reservation holds its event's row lock, so under that lock an event's reservations are stable and no two
/// writers can deadlock. <c>NO KEY UPDATE</c> rather than <c>UPDATE</c>: we never change the key, and the weaker
/// lock does not conflict with the <c>KEY SHARE</c> locks that foreign-key checks on reservations take.
/// All expiry decisions use the database clock, read once per transaction right after the lock.
/// </summary>
public sealed class ReservationEngine(Database database, ILogger<ReservationEngine> logger)
{
    private const string ReservationColumns = "id, event_id, user_id, quantity, status, created_at, expires_at, confirmed_at, ended_at";

    public int SweepBatchSize { get; init; } = 1000;

    /// <summary>Most live holds one user may have at once, across all events; 0 turns the cap off.</summary>
    public int MaxActiveHoldsPerUser { get; init; }

    /// <summary>Most seats one user may hold at once (live holds), across all events; 0 turns the cap off.</summary>
    public int MaxHeldSeatsPerUser { get; init; }

    /// <summary>
    /// Share of wall time the sweeper may keep the database busy while working through a backlog. A tenth: with
    /// a batch reading only what it ends, that still ends 3,000–3,500 holds/s on a saturated 2-core machine, and
    /// concurrent holds kept 0.87–0.98 of their rate (0.68–0.84 with a fifth).
    /// </summary>
    public double SweepDutyCycle { get; init; } = 0.1;

    /// <summary>A connection for batches that run one after another (a batch queue's drain).</summary>
    internal ConnectionLane NewLane() => new(database);

    public async Task<HoldResult> HoldAsync(HoldRequest request, CancellationToken cancellationToken)
    {
        if (!IsValidQuantity(request.Quantity))
        {
            return new HoldResult(HoldOutcome.InvalidQuantity);
        }
        try
        {
            var results = await database.InTransactionAsync(
                (connection, transaction, ct) => HoldInTransactionAsync(connection, transaction, [request], ct),
                cancellationToken);
            return results[0];
        }
        catch (PostgresException ex) when (IsUnknownUser(ex))
        {
            return new HoldResult(HoldOutcome.UnknownUser);
        }
    }

    /// <summary>
    /// The hold combiner's batch: first the whole batch at once (<see cref="TryHoldAllAsync"/>: one round trip
    /// when every request is granted, the common case of an on-sale), otherwise the request-by-request decision
    /// of <see cref="HoldInTransactionAsync"/>, which gives each request its own answer. A batch with
    /// idempotency keys tries the whole batch inside its transaction, since the stored responses must commit
    /// with the holds: three round trips (statements, stored responses, commit) instead of one.
    /// </summary>
    /// <returns>The results, and whether the batch was granted whole.</returns>
    internal Task<(HoldResult[] Results, bool Whole)> HoldBatchAsync(
        IReadOnlyList<HoldRequest> requests, CancellationToken cancellationToken, ConnectionLane? lane = null)
    {
        var keys = requests.Where(r => r.Idempotency is not null).Select(r => (r.UserId, r.Idempotency!.Key)).ToList();
        return WholeOrEachAsync(
            requests.All(r => IsValidQuantity(r.Quantity)), keys.Count > 0, keys.Distinct().Count() == keys.Count,
            ct => TryHoldAllAsync(requests, ct, lane),
            (connection, transaction, ct) => HoldAllAsync(connection, transaction, requests, ct),
            (connection, transaction, ct) => HoldInTransactionAsync(connection, transaction, requests, ct),
            lane, cancellationToken);
    }

    /// <summary>
    /// A batch first tried whole, then decided request by request: without idempotency keys the whole try is
    /// one round trip of its own; with keys it runs inside the transaction that, if the batch is not applied
    /// whole, goes on to decide it request by request. The same key twice in one batch (the second a replay of
    /// the first) is decided request by request straight away.
    /// </summary>
    private async Task<(TResult[] Results, bool Whole)> WholeOrEachAsync<TResult>(
        bool eligible, bool keyed, bool keysDistinct,
        Func<CancellationToken, Task<TResult[]?>> wholeInOneRoundTrip,
        Func<NpgsqlConnection, NpgsqlTransaction, CancellationToken, Task<TResult[]?>> wholeInTransaction,
        Func<NpgsqlConnection, NpgsqlTransaction, CancellationToken, Task<TResult[]>> each,
        ConnectionLane? lane,
        CancellationToken cancellationToken)
    {
        if (eligible && !keyed && await wholeInOneRoundTrip(cancellationToken) is { } all)
        {
            return (all, true);
        }
        if (eligible && keyed && keysDistinct)
        {
            return await database.InTransactionAsync(async (connection, transaction, ct) =>
                await wholeInTransaction(connection, transaction, ct) is { } applied
                    ? (applied, true)
                    : (await each(connection, transaction, ct), false), cancellationToken, lane: lane);
        }
        return (await database.InTransactionAsync(each, cancellationToken, lane: lane), false);
    }

    /// <summary>
    /// Grants the whole batch in one round trip, or nothing: one batch of two statements that PostgreSQL runs
    /// as one implicit transaction. The first locks the events' rows (in id order, as every multi-event writer
    /// does); the second, with a snapshot taken after the locks, checks that every request would be granted by
    /// the rules of <see cref="HoldInTransactionAsync"/> (event found, sales open, seats for all of them,
    /// per-user limits and the live-holds and held-seats caps counting the batch itself) and, only then, inserts the holds and
    /// moves the counters. When every request is granted, deciding them one by one in order grants them all
    /// too, so the answers are the same. Batches with idempotency keys go through <see cref="HoldAllAsync"/>
    /// inside a transaction of their own.
    /// </summary>
    /// <returns>Every request's result, or null when the batch was not granted as a whole (nothing written).</returns>
    internal Task<HoldResult[]?> TryHoldAllAsync(
        IReadOnlyList<HoldRequest> requests, CancellationToken cancellationToken, ConnectionLane? lane = null) =>
        database.InOneRoundTripAsync((connection, ct) => HoldAllAsync(connection, transaction: null, requests, ct), cancellationToken, lane);

    /// <summary>
    /// The statements of <see cref="TryHoldAllAsync"/>, in the caller's transaction when there is one; there,
    /// requests with idempotency keys are granted only if none of their keys has been used yet, and their
    /// responses are stored before the caller commits.
    /// </summary>
    private async Task<HoldResult[]?> HoldAllAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, IReadOnlyList<HoldRequest> requests, CancellationToken ct)
    {
        const string lockSql = """
            select id
            from events
            where id = any(@LockIds)
            order by id
            for no key update
            """;
        const string holdAllSql = """
            with clock as materialized (
                select clock_timestamp() as now
            ), batch as (
                select id, event_id, user_id, quantity
                from unnest(@Ids, @EventIds, @UserIds, @Quantities) as r (id, event_id, user_id, quantity)
            ), seats as (
                select event_id, sum(quantity)::int as seats
                from batch
                group by event_id
            ), decision as materialized (
                select
                    (select count(*)
                     from seats s
                     join events e on e.id = s.event_id
                     where e.available >= s.seats
                       and (e.sales_opens_at is null or e.sales_opens_at <= c.now)
                       and (e.sales_closes_at is null or c.now < e.sales_closes_at))
                    = (select count(*) from seats)
                    and not exists (
                        select 1
                        from (select event_id, user_id, sum(quantity) as seats from batch group by event_id, user_id) b
                        join events e on e.id = b.event_id
                        where e.max_tickets_per_user is not null
                          and b.seats + (select coalesce(sum(r.quantity), 0)
                                         from reservations r
                                         where r.event_id = b.event_id
                                           and r.user_id = b.user_id
                                           and (r.status = 'CONFIRMED' or (r.status = 'HOLD' and r.expires_at > c.now)))
                              > e.max_tickets_per_user)
                    and not exists (
                        select 1
                        from idempotency_keys k
                        join unnest(@KeyUserIds, @Keys) as x (user_id, key) on k.user_id = x.user_id and k.key = x.key)
                    and ((@MaxActiveHolds <= 0 and @MaxHeldSeats <= 0) or not exists (
                        select 1
                        from (select user_id, count(*) as holds, sum(quantity) as seats from batch group by user_id) b
                        -- The expiry test as a filter, not a condition: the planner must not reach for the expiry
                        -- index (every live hold of every user) when the user's own holds are a handful.
                        cross join lateral (
                            select count(*) filter (where r.expires_at > c.now) as holds,
                                   coalesce(sum(r.quantity) filter (where r.expires_at > c.now), 0) as seats
                            from reservations r
                            where r.user_id = b.user_id and r.status = 'HOLD') live
                        where (@MaxActiveHolds > 0 and b.holds + live.holds > @MaxActiveHolds)
                           or (@MaxHeldSeats > 0 and b.seats + live.seats > @MaxHeldSeats)))
                    as ok
                from clock c
            ), inserted as (
                insert into reservations (id, event_id, user_id, quantity, status, created_at, expires_at)
                select b.id, b.event_id, b.user_id, b.quantity, 'HOLD', c.now, c.now + make_interval(secs => e.hold_seconds)
                from batch b
                join events e on e.id = b.event_id
                cross join clock c
                where (select ok from decision)
                returning id, expires_at
            ), counted as (
                update events e
                set available = e.available - s.seats, held = e.held + s.seats
                from seats s
                where e.id = s.event_id and (select ok from decision)
            )
            select d.ok, c.now, i.id, i.expires_at
            from decision d
            cross join clock c
            left join inserted i on true
            """;
        var ids = requests.Select(_ => Guid.CreateVersion7()).ToArray();
        var keyed = requests.Where(r => r.Idempotency is not null).ToList();
        HoldResult[] results;
        await using (var batch = await PreparedBatchAsync(connection, transaction, ct,
            new NpgsqlBatchCommand(lockSql)
            {
                Parameters = { new("LockIds", requests.Select(r => r.EventId).Distinct().Order().ToArray()) },
            },
            new NpgsqlBatchCommand(holdAllSql)
            {
                Parameters =
                {
                    new("Ids", ids),
                    new("EventIds", requests.Select(r => r.EventId).ToArray()),
                    new("UserIds", requests.Select(r => r.UserId).ToArray()),
                    new("Quantities", requests.Select(r => r.Quantity).ToArray()),
                    new("MaxActiveHolds", MaxActiveHoldsPerUser),
                    new("MaxHeldSeats", MaxHeldSeatsPerUser),
                    new("KeyUserIds", keyed.Select(r => r.UserId).ToArray()),
                    new("Keys", keyed.Select(r => r.Idempotency!.Key).ToArray()),
                },
            }))
        {
            await using var reader = await batch.ExecuteReaderAsync(ct);
            await reader.NextResultAsync(ct); // past the locked ids, to the decision
            var expiries = new Dictionary<Guid, DateTime>(requests.Count);
            var now = default(DateTime);
            while (await reader.ReadAsync(ct))
            {
                if (!reader.GetBoolean(0))
                {
                    return null;
                }
                now = reader.GetDateTime(1);
                expiries.Add(reader.GetGuid(2), reader.GetDateTime(3));
            }
            if (expiries.Count != requests.Count)
            {
                throw new InvalidOperationException($"A granted batch of {requests.Count} holds inserted {expiries.Count}.");
            }
            results = requests.Select((request, i) => new HoldResult(HoldOutcome.Held, new Reservation
            {
                Id = ids[i],
                EventId = request.EventId,
                UserId = request.UserId,
                Quantity = request.Quantity,
                Status = ReservationStatus.Hold,
                CreatedAt = now,
                ExpiresAt = expiries[ids[i]],
            })).ToArray();
        }
        await IdempotencyRecords.StoreFirstUsesAsync(connection, transaction,
            requests.Select((r, i) => (r.UserId, r.Idempotency, results[i])), ct);
        return results;
    }

    /// <summary>
    /// A batch of whole-batch statements, prepared on this connection (the pool keeps it prepared) and run with
    /// one generic plan: planning them for every batch costs more than running them. That plan is made with
    /// sequential scans off, so that a plan made while a table was still small — a fresh database, the first
    /// seconds of an on-sale — cannot go on scanning the whole table once it has grown (seen: every hold batch
    /// reading all of <c>idempotency_keys</c>). And without JIT compilation: JIT code is not cached with the plan,
    /// and once statistics made a plan's estimated cost pass <c>jit_above_cost</c> — after the sweeper had ended
    /// 100,000 holds of one user, the live-holds cap's subquery was estimated at 12,000 rows per user — every batch
    /// compiled about a hundred functions first: 40–70 ms a batch, holds down from 17,000/s to 900/s. The
    /// settings are reset at the end of the batch; a batch that fails is rolled back, settings included.
    /// </summary>
    private static async Task<NpgsqlBatch> PreparedBatchAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken ct, params NpgsqlBatchCommand[] statements)
    {
        var batch = new NpgsqlBatch(connection, transaction);
        batch.BatchCommands.Add(new NpgsqlBatchCommand("set plan_cache_mode = force_generic_plan"));
        batch.BatchCommands.Add(new NpgsqlBatchCommand("set enable_seqscan = off"));
        batch.BatchCommands.Add(new NpgsqlBatchCommand("set jit = off"));
        foreach (var statement in statements)
        {
            batch.BatchCommands.Add(statement);
        }
        batch.BatchCommands.Add(new NpgsqlBatchCommand("reset jit"));
        batch.BatchCommands.Add(new NpgsqlBatchCommand("reset enable_seqscan"));
        batch.BatchCommands.Add(new NpgsqlBatchCommand("reset plan_cache_mode"));
        try
        {
            await batch.PrepareAsync(ct);
            return batch;
        }
        catch
        {
            await batch.DisposeAsync();
            throw;
        }
    }

    /// <summary>A row for a user id that is not in <c>users</c> (reservations or idempotency keys).</summary>
    private static bool IsUnknownUser(PostgresException ex) =>
        ex.SqlState == PostgresErrorCodes.ForeignKeyViolation && ex.ConstraintName?.EndsWith("_user_id_fkey", StringComparison.Ordinal) == true;

    internal static bool IsValidQuantity(int quantity) => quantity is >= 1 and <= Limits.MaxQuantityPerHold;

    /// <summary>
    /// Decides and applies a batch of holds inside the caller's transaction: the events' rows are locked once
    /// (in id order, like every other multi-event writer, so batches never deadlock), requests are granted in
    /// order while seats last, then one insert and one counter update cover the whole batch. A single hold is a
    /// batch of one, so the direct path and the hold combiner share every rule.
    /// </summary>
    internal async Task<HoldResult[]> HoldInTransactionAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<HoldRequest> requests, CancellationToken ct)
    {
        // The clock is read once, after the locks (an uncorrelated sub-select runs once per statement).
        const string lockSql = """
            select id, available, sales_opens_at, sales_closes_at, max_tickets_per_user, hold_seconds, (select clock_timestamp()) as now
            from events
            where id = any(@EventIds)
            order by id
            for no key update
            """;
        var eventIds = requests.Select(r => r.EventId).Distinct().Order().ToArray();
        var events = (await connection.QueryAsync<LockedEvent>(new CommandDefinition(lockSql, new { EventIds = eventIds }, transaction, cancellationToken: ct)))
            .ToDictionary(e => e.Id);
        var results = new HoldResult[requests.Count];
        var now = events.Count > 0 ? events.Values.First().Now : default;
        var userTotals = await ActiveTicketsPerUserAsync(connection, transaction, events.Values, requests, now, ct);
        var activeHolds = await ActiveHoldsPerUserAsync(connection, transaction, requests, now, ct);
        var available = events.Values.ToDictionary(e => e.Id, e => e.Available);
        var expiredReleased = new HashSet<Guid>();
        var granted = new List<Reservation>(requests.Count);
        var keys = await IdempotencyRecords.FindAsync(connection, transaction,
            requests.Where(r => r.Idempotency is not null).Select(r => (r.UserId, r.Idempotency!.Key)).Distinct().ToList(), ct);
        var newKeys = new List<IdempotencyRecords.Stored>();
        for (var i = 0; i < requests.Count; i++)
        {
            var request = requests[i];
            if (request.Idempotency is { } key && keys.TryGetValue((request.UserId, key.Key), out var previous))
            {
                results[i] = previous.RequestHash.AsSpan().SequenceEqual(key.RequestHash)
                    ? new HoldResult(HoldOutcome.Replayed, Replay: previous.Response)
                    : new HoldResult(HoldOutcome.IdempotencyKeyReused);
                continue;
            }
            results[i] = await DecideHoldAsync(request);
            if (request.Idempotency is { } newKey)
            {
                var record = await IdempotencyRecords.RenderAsync(request.UserId, newKey, results[i]);
                keys[(request.UserId, newKey.Key)] = record;
                newKeys.Add(record);
            }
        }

        async Task<HoldResult> DecideHoldAsync(HoldRequest request)
        {
            if (!events.TryGetValue(request.EventId, out var ev))
            {
                return new HoldResult(HoldOutcome.EventNotFound);
            }
            var userTotal = userTotals.GetValueOrDefault((ev.Id, request.UserId));
            var refusal = Refusal(ev, now, request, userTotal);
            var live = activeHolds.GetValueOrDefault(request.UserId);
            if (refusal is null && MaxActiveHoldsPerUser > 0 && live.Holds >= MaxActiveHoldsPerUser)
            {
                refusal = HoldOutcome.TooManyActiveHolds;
            }
            if (refusal is null && MaxHeldSeatsPerUser > 0 && live.Seats + request.Quantity > MaxHeldSeatsPerUser)
            {
                refusal = HoldOutcome.TooManyHeldSeats;
            }
            if (refusal is null && request.Quantity > available[ev.Id] && expiredReleased.Add(ev.Id))
            {
                // Short of seats: give back this event's expired holds now rather than when the sweeper runs.
                available[ev.Id] += await ReleaseExpiredOfEventAsync(connection, transaction, ev.Id, now, ct);
            }
            if (refusal is null && request.Quantity > available[ev.Id])
            {
                refusal = HoldOutcome.SoldOut;
            }
            if (refusal is { } outcome)
            {
                return new HoldResult(outcome);
            }
            available[ev.Id] -= request.Quantity;
            userTotals[(ev.Id, request.UserId)] = userTotal + request.Quantity;
            activeHolds[request.UserId] = (live.Holds + 1, live.Seats + request.Quantity);
            var reservation = new Reservation
            {
                Id = Guid.CreateVersion7(),
                EventId = ev.Id,
                UserId = request.UserId,
                Quantity = request.Quantity,
                Status = ReservationStatus.Hold,
                CreatedAt = now,
                ExpiresAt = now.AddSeconds(ev.HoldSeconds),
            };
            granted.Add(reservation);
            return new HoldResult(HoldOutcome.Held, reservation);
        }

        if (granted.Count > 0)
        {
            const string insertSql = """
                with inserted as (
                    insert into reservations (id, event_id, user_id, quantity, status, created_at, expires_at)
                    select id, event_id, user_id, quantity, 'HOLD', @Now, expires_at
                    from unnest(@Ids, @EventIds, @UserIds, @Quantities, @ExpiresAts) as r (id, event_id, user_id, quantity, expires_at)
                )
                update events e
                set available = e.available - s.seats, held = e.held + s.seats
                from unnest(@SeatEventIds, @Seats) as s (event_id, seats)
                where e.id = s.event_id
                """;
            var seats = granted.GroupBy(r => r.EventId).Select(g => (EventId: g.Key, Seats: g.Sum(r => r.Quantity))).ToArray();
            await connection.ExecuteAsync(new CommandDefinition(insertSql, new
            {
                Now = now,
                Ids = granted.Select(r => r.Id).ToArray(),
                EventIds = granted.Select(r => r.EventId).ToArray(),
                UserIds = granted.Select(r => r.UserId).ToArray(),
                Quantities = granted.Select(r => r.Quantity).ToArray(),
                ExpiresAts = granted.Select(r => r.ExpiresAt).ToArray(),
                SeatEventIds = seats.Select(x => x.EventId).ToArray(),
                Seats = seats.Select(x => x.Seats).ToArray(),
            }, transaction, cancellationToken: ct));
        }
        await IdempotencyRecords.InsertAsync(connection, transaction, newKeys, ct);
        return results;
    }

    private static HoldOutcome? Refusal(LockedEvent ev, DateTime now, HoldRequest request, int userTotal)
    {
        if (!IsValidQuantity(request.Quantity))
        {
            return HoldOutcome.InvalidQuantity;
        }
        if (ev.SalesOpensAt is { } opens && now < opens)
        {
            return HoldOutcome.SalesNotOpen;
        }
        if (ev.SalesClosesAt is { } closes && now >= closes)
        {
            return HoldOutcome.SalesClosed;
        }
        if (ev.MaxTicketsPerUser is { } max && userTotal + request.Quantity > max)
        {
            return HoldOutcome.LimitExceeded;
        }
        return null;
    }

    /// <summary>Live holds and their seats per requesting user across all events (only when a cap is on).</summary>
    private async Task<Dictionary<Guid, (int Holds, int Seats)>> ActiveHoldsPerUserAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<HoldRequest> requests, DateTime now, CancellationToken ct)
    {
        if (MaxActiveHoldsPerUser <= 0 && MaxHeldSeatsPerUser <= 0)
        {
            return [];
        }
        const string sql = """
            select user_id, count(*)::int, sum(quantity)::int
            from reservations
            where user_id = any(@UserIds) and status = 'HOLD' and expires_at > @Now
            group by user_id
            """;
        var rows = await connection.QueryAsync<(Guid UserId, int Holds, int Seats)>(new CommandDefinition(sql,
            new { UserIds = requests.Select(r => r.UserId).Distinct().ToArray(), Now = now }, transaction, cancellationToken: ct));
        return rows.ToDictionary(r => r.UserId, r => (r.Holds, r.Seats));
    }

    /// <summary>Tickets each requesting user already has (live holds and confirmed) per limited event.</summary>
    private static async Task<Dictionary<(Guid EventId, Guid UserId), int>> ActiveTicketsPerUserAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IEnumerable<LockedEvent> events, IReadOnlyList<HoldRequest> requests,
        DateTime now, CancellationToken ct)
    {
        var limited = events.Where(e => e.MaxTicketsPerUser is not null).Select(e => e.Id).ToHashSet();
        if (limited.Count == 0)
        {
            return [];
        }
        const string sql = """
            select event_id, user_id, sum(quantity)::int as quantity
            from reservations
            where event_id = any(@EventIds)
              and user_id = any(@UserIds)
              and (status = 'CONFIRMED' or (status = 'HOLD' and expires_at > @Now))
            group by event_id, user_id
            """;
        var userIds = requests.Where(r => limited.Contains(r.EventId)).Select(r => r.UserId).Distinct().ToArray();
        var rows = await connection.QueryAsync<(Guid EventId, Guid UserId, int Quantity)>(new CommandDefinition(sql,
            new { EventIds = limited.ToArray(), UserIds = userIds, Now = now }, transaction, cancellationToken: ct));
        return rows.ToDictionary(r => (r.EventId, r.UserId), r => r.Quantity);
    }

    /// <returns>The seats given back.</returns>
    private async Task<int> ReleaseExpiredOfEventAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid eventId, DateTime now, CancellationToken ct)
    {
        const string sql = """
            with expired as (
                update reservations
                set status = 'EXPIRED', ended_at = @Now
                where event_id = @EventId and status = 'HOLD' and expires_at <= @Now
                returning quantity
            ), freed as (
                select count(*)::int as holds, coalesce(sum(quantity), 0)::int as seats from expired
            )
            update events
            set available = available + freed.seats, held = held - freed.seats
            from freed
            where events.id = @EventId and freed.seats > 0
            returning freed.holds, freed.seats
            """;
        var freed = await connection.QuerySingleOrDefaultAsync<SweepRow>(new CommandDefinition(sql, new { EventId = eventId, Now = now }, transaction, cancellationToken: ct));
        if (freed is not null)
        {
            logger.LogInformation("Hold on {EventId} released {Holds} expired holds ({Seats} seats) before the sweeper", eventId, freed.Holds, freed.Seats);
            return freed.Seats;
        }
        return 0;
    }

    public Task<ChangeResult> ConfirmAsync(Guid userId, Guid reservationId, CancellationToken cancellationToken,
        IdempotencyKey<ChangeResult>? idempotency = null) =>
        ChangeAsync(new ChangeRequest(reservationId, userId, Transition.Confirm, idempotency), cancellationToken);

    public Task<ChangeResult> ReleaseAsync(Guid userId, Guid reservationId, CancellationToken cancellationToken) =>
        ChangeAsync(new ChangeRequest(reservationId, userId, Transition.Release), cancellationToken);

    /// <summary>An admin cancels a confirmed reservation; its seats go back on sale.</summary>
    public Task<ChangeResult> CancelAsync(Guid reservationId, CancellationToken cancellationToken) =>
        ChangeAsync(new ChangeRequest(reservationId, OwnerId: null, Transition.Cancel), cancellationToken);

    internal async Task<ChangeResult> ChangeAsync(ChangeRequest request, CancellationToken cancellationToken)
    {
        try
        {
            return await database.InTransactionAsync(async (connection, transaction, ct) =>
                (await ChangeInTransactionAsync(connection, transaction, [request], ct))[0], cancellationToken);
        }
        catch (PostgresException ex) when (IsUnknownUser(ex))
        {
            // Only an idempotency record can name the user here; a user that does not exist owns nothing.
            return new ChangeResult(ChangeOutcome.NotFound);
        }
    }

    /// <summary>
    /// Decides and applies a batch of confirms, releases and cancels inside the caller's transaction: the
    /// events of the reservations are locked (in id order), the reservations read fresh under those locks, each
    /// request decided in order against the state the earlier ones left, and all changes written with one
    /// statement. A hold that has expired but is not yet swept is ended as EXPIRED here (its seats go back), and
    /// a confirm of it is refused as expired. Each reservation leaves HOLD at most once.
    /// </summary>
    internal async Task<ChangeResult[]> ChangeInTransactionAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<ChangeRequest> requests, CancellationToken ct)
    {
        // A reservation's event never changes, so finding it before the lock is safe.
        const string lockSql = """
            select (select clock_timestamp())
            from events
            where id in (select event_id from reservations where id = any(@Ids))
            order by id
            for no key update
            """;
        var ids = requests.Select(r => r.ReservationId).Distinct().ToArray();
        var results = new ChangeResult[requests.Count];
        var locked = (await connection.QueryAsync<DateTime>(new CommandDefinition(lockSql, new { Ids = ids }, transaction, cancellationToken: ct))).ToList();
        var now = locked.Count > 0 ? locked[0] : default;
        const string readSql = $"select {ReservationColumns} from reservations where id = any(@Ids)";
        var current = locked.Count == 0
            ? []
            : (await connection.QueryAsync<Reservation>(new CommandDefinition(readSql, new { Ids = ids }, transaction, cancellationToken: ct))).ToDictionary(r => r.Id);
        var changes = new Dictionary<Guid, (Reservation From, Reservation To)>();
        var keyed = requests.Where(r => r.Idempotency is not null && r.OwnerId is not null).Select(r => (r.OwnerId!.Value, r.Idempotency!.Key)).Distinct().ToList();
        var keys = await IdempotencyRecords.FindAsync(connection, transaction, keyed, ct);
        var newKeys = new List<IdempotencyRecords.Stored>();
        for (var i = 0; i < requests.Count; i++)
        {
            var request = requests[i];
            if (request is { Idempotency: { } key, OwnerId: { } user } && keys.TryGetValue((user, key.Key), out var previous))
            {
                results[i] = previous.RequestHash.AsSpan().SequenceEqual(key.RequestHash)
                    ? new ChangeResult(ChangeOutcome.Replayed, Replay: previous.Response)
                    : new ChangeResult(ChangeOutcome.IdempotencyKeyReused);
                continue;
            }
            results[i] = DecideChange(request);
            if (request is { Idempotency: { } newKey, OwnerId: { } owner })
            {
                var record = await IdempotencyRecords.RenderAsync(owner, newKey, results[i]);
                keys[(owner, newKey.Key)] = record;
                newKeys.Add(record);
            }
        }

        ChangeResult DecideChange(ChangeRequest request)
        {
            if (!current.TryGetValue(request.ReservationId, out var reservation)
                || (request.OwnerId is { } owner && reservation.UserId != owner))
            {
                return new ChangeResult(ChangeOutcome.NotFound);
            }
            var (outcome, to) = Decide(reservation, request.Transition, now);
            if (to is not null)
            {
                if (changes.ContainsKey(reservation.Id))
                {
                    throw new InvalidOperationException($"Reservation {reservation.Id} would change twice in one transaction.");
                }
                var changed = reservation with
                {
                    Status = to,
                    ConfirmedAt = to == ReservationStatus.Confirmed ? now : reservation.ConfirmedAt,
                    EndedAt = to == ReservationStatus.Confirmed ? null : now,
                };
                changes[reservation.Id] = (reservation, changed);
                current[reservation.Id] = changed;
                logger.LogInformation("Reservation {ReservationId} of {EventId} went from {From} to {To} ({Quantity} seats) at {Transition}",
                    reservation.Id, reservation.EventId, reservation.Status, to, reservation.Quantity, request.Transition);
            }
            return new ChangeResult(outcome, current[reservation.Id]);
        }

        if (changes.Count > 0)
        {
            await ApplyAsync(connection, transaction, changes.Values.ToList(), now, ct);
        }
        await IdempotencyRecords.InsertAsync(connection, transaction, newKeys, ct);
        return results;
    }

    /// <summary>
    /// The combiner's batch of confirms and releases: first the whole batch at once
    /// (<see cref="TryChangeAllAsync"/>: one round trip when every request changes its live hold), otherwise the
    /// request-by-request decision of <see cref="ChangeInTransactionAsync"/>. As for holds, a batch with
    /// idempotency keys tries the whole batch inside its transaction.
    /// </summary>
    /// <returns>The results, and whether the batch was applied whole.</returns>
    internal Task<(ChangeResult[] Results, bool Whole)> ChangeBatchAsync(
        IReadOnlyList<ChangeRequest> requests, CancellationToken cancellationToken, ConnectionLane? lane = null)
    {
        var keys = requests.Where(r => r.Idempotency is not null).Select(r => (r.OwnerId, r.Idempotency!.Key)).ToList();
        return WholeOrEachAsync(
            requests.All(r => r is { OwnerId: not null, Transition: Transition.Confirm or Transition.Release })
                && requests.Select(r => r.ReservationId).Distinct().Count() == requests.Count,
            keys.Count > 0, keys.Distinct().Count() == keys.Count,
            ct => TryChangeAllAsync(requests, ct, lane),
            (connection, transaction, ct) => ChangeAllAsync(connection, transaction, requests, ct),
            (connection, transaction, ct) => ChangeInTransactionAsync(connection, transaction, requests, ct),
            lane, cancellationToken);
    }

    /// <summary>
    /// Confirms or releases every reservation of the batch in one round trip, or nothing: the events' rows are
    /// locked first (in id order), then one statement, with a snapshot taken after the locks, checks that each
    /// reservation is a live hold of the requesting user — the only case in which
    /// <see cref="ChangeInTransactionAsync"/> changes it — and only then writes the new statuses and moves the
    /// seats. Batches with an admin cancel or one reservation twice take the request-by-request path; batches
    /// with idempotency keys go through <see cref="ChangeAllAsync"/> inside a transaction of their own.
    /// </summary>
    /// <returns>Every request's result, or null when the batch was not applied as a whole (nothing written).</returns>
    internal Task<ChangeResult[]?> TryChangeAllAsync(
        IReadOnlyList<ChangeRequest> requests, CancellationToken cancellationToken, ConnectionLane? lane = null) =>
        database.InOneRoundTripAsync((connection, ct) => ChangeAllAsync(connection, transaction: null, requests, ct), cancellationToken, lane);

    /// <summary>
    /// The statements of <see cref="TryChangeAllAsync"/>, in the caller's transaction when there is one; there,
    /// requests with idempotency keys apply only if none of their keys has been used yet, and their responses
    /// are stored before the caller commits.
    /// </summary>
    private async Task<ChangeResult[]?> ChangeAllAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, IReadOnlyList<ChangeRequest> requests, CancellationToken ct)
    {
        const string lockSql = """
            select id
            from events
            where id in (select event_id from reservations where id = any(@Ids))
            order by id
            for no key update
            """;
        const string changeAllSql = """
            with clock as materialized (
                select clock_timestamp() as now
            ), requested as (
                select id, owner_id, to_status
                from unnest(@Ids, @OwnerIds, @ToStatuses) as q (id, owner_id, to_status)
            ), decision as materialized (
                select count(*) = cardinality(@Ids) as ok
                from requested q
                join reservations r on r.id = q.id
                cross join clock c
                where r.user_id = q.owner_id and r.status = 'HOLD' and r.expires_at > c.now
                  and not exists (
                      select 1
                      from idempotency_keys k
                      join unnest(@KeyUserIds, @Keys) as x (user_id, key) on k.user_id = x.user_id and k.key = x.key)
            ), changed as (
                update reservations r
                set status = q.to_status,
                    confirmed_at = case when q.to_status = 'CONFIRMED' then c.now else r.confirmed_at end,
                    ended_at = case when q.to_status = 'CONFIRMED' then null else c.now end
                from requested q
                cross join clock c
                where r.id = q.id and (select ok from decision)
                returning r.id, r.event_id, r.user_id, r.quantity, r.status, r.created_at, r.expires_at, r.confirmed_at, r.ended_at
            ), seats as (
                select event_id,
                       coalesce(sum(quantity) filter (where status = 'CONFIRMED'), 0)::int as confirmed,
                       coalesce(sum(quantity) filter (where status = 'RELEASED'), 0)::int as released
                from changed
                group by event_id
            ), counted as (
                update events e
                set held = e.held - s.confirmed - s.released, confirmed = e.confirmed + s.confirmed, available = e.available + s.released
                from seats s
                where e.id = s.event_id
            )
            select d.ok, ch.id, ch.event_id, ch.user_id, ch.quantity, ch.status, ch.created_at, ch.expires_at, ch.confirmed_at, ch.ended_at
            from decision d
            left join changed ch on true
            """;
        var ids = requests.Select(r => r.ReservationId).ToArray();
        var keyed = requests.Where(r => r.Idempotency is not null).ToList();
        ChangeResult[] results;
        await using (var batch = await PreparedBatchAsync(connection, transaction, ct,
            new NpgsqlBatchCommand(lockSql) { Parameters = { new("Ids", ids) } },
            new NpgsqlBatchCommand(changeAllSql)
            {
                Parameters =
                {
                    new("Ids", ids),
                    new("OwnerIds", requests.Select(r => r.OwnerId!.Value).ToArray()),
                    new("ToStatuses", requests.Select(r => r.Transition == Transition.Confirm ? ReservationStatus.Confirmed : ReservationStatus.Released).ToArray()),
                    new("KeyUserIds", keyed.Select(r => r.OwnerId!.Value).ToArray()),
                    new("Keys", keyed.Select(r => r.Idempotency!.Key).ToArray()),
                },
            }))
        {
            await using var reader = await batch.ExecuteReaderAsync(ct);
            await reader.NextResultAsync(ct); // past the locked ids, to the decision
            var changed = new Dictionary<Guid, Reservation>(requests.Count);
            while (await reader.ReadAsync(ct))
            {
                if (!reader.GetBoolean(0))
                {
                    return null;
                }
                var reservation = new Reservation
                {
                    Id = reader.GetGuid(1),
                    EventId = reader.GetGuid(2),
                    UserId = reader.GetGuid(3),
                    Quantity = reader.GetInt32(4),
                    Status = reader.GetString(5),
                    CreatedAt = reader.GetDateTime(6),
                    ExpiresAt = reader.GetDateTime(7),
                    ConfirmedAt = reader.IsDBNull(8) ? null : reader.GetDateTime(8),
                    EndedAt = reader.IsDBNull(9) ? null : reader.GetDateTime(9),
                };
                changed.Add(reservation.Id, reservation);
            }
            if (changed.Count != requests.Count)
            {
                throw new InvalidOperationException($"A batch of {requests.Count} changes wrote {changed.Count}.");
            }
            foreach (var (request, reservation) in requests.Select(r => (r, changed[r.ReservationId])))
            {
                logger.LogInformation("Reservation {ReservationId} of {EventId} went from {From} to {To} ({Quantity} seats) at {Transition}",
                    reservation.Id, reservation.EventId, ReservationStatus.Hold, reservation.Status, reservation.Quantity, request.Transition);
            }
            results = requests.Select(r => new ChangeResult(ChangeOutcome.Changed, changed[r.ReservationId])).ToArray();
        }
        await IdempotencyRecords.StoreFirstUsesAsync(connection, transaction,
            requests.Select((r, i) => (r.OwnerId!.Value, r.Idempotency, results[i])), ct);
        return results;
    }

    /// <summary>What a request does to a reservation: its outcome, and the new status if it changes.</summary>
    private static (ChangeOutcome Outcome, string? To) Decide(Reservation current, Transition transition, DateTime now)
    {
        var live = current.Status == ReservationStatus.Hold && current.ExpiresAt > now;
        if (current.Status == ReservationStatus.Hold && !live)
        {
            // Expired but not yet swept: end it now, whatever was asked.
            return (transition == Transition.Cancel ? ChangeOutcome.WrongState : ChangeOutcome.Expired, ReservationStatus.Expired);
        }
        var target = transition switch
        {
            Transition.Confirm => ReservationStatus.Confirmed,
            Transition.Release => ReservationStatus.Released,
            _ => ReservationStatus.Cancelled,
        };
        if (current.Status == target)
        {
            return (ChangeOutcome.Unchanged, null);
        }
        if (current.Status == ReservationStatus.Expired && transition != Transition.Cancel)
        {
            return (ChangeOutcome.Expired, null);
        }
        // Confirm and release act on a live hold; cancel is the admin undoing a sale, so only on a confirmed one.
        var allowed = transition == Transition.Cancel ? current.Status == ReservationStatus.Confirmed : live;
        return allowed ? (ChangeOutcome.Changed, target) : (ChangeOutcome.WrongState, null);
    }

    /// <summary>Writes the reservations' new statuses and moves their seats between the events' counters.</summary>
    private static async Task ApplyAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, List<(Reservation From, Reservation To)> changes, DateTime now, CancellationToken ct)
    {
        var deltas = changes
            .Select(c => (c.From.EventId, Delta: Delta(c.From.Status, c.To.Status, c.From.Quantity)))
            .GroupBy(d => d.EventId)
            .Select(g => (EventId: g.Key, Available: g.Sum(d => d.Delta.Available), Held: g.Sum(d => d.Delta.Held), Confirmed: g.Sum(d => d.Delta.Confirmed)))
            .ToArray();
        const string sql = """
            with changed as (
                update reservations r
                set status = c.to_status,
                    confirmed_at = case when c.to_status = 'CONFIRMED' then @Now else r.confirmed_at end,
                    ended_at = case when c.to_status = 'CONFIRMED' then null else @Now end
                from unnest(@Ids, @FromStatuses, @ToStatuses) as c (id, from_status, to_status)
                where r.id = c.id and r.status = c.from_status
                returning r.id
            ), counters as (
                update events e
                set available = e.available + d.available, held = e.held + d.held, confirmed = e.confirmed + d.confirmed
                from unnest(@EventIds, @Available, @Held, @Confirmed) as d (event_id, available, held, confirmed)
                where e.id = d.event_id
            )
            select count(*)::int from changed
            """;
        var written = await connection.ExecuteScalarAsync<int>(new CommandDefinition(sql, new
        {
            Now = now,
            Ids = changes.Select(c => c.From.Id).ToArray(),
            FromStatuses = changes.Select(c => c.From.Status).ToArray(),
            ToStatuses = changes.Select(c => c.To.Status).ToArray(),
            EventIds = deltas.Select(d => d.EventId).ToArray(),
            Available = deltas.Select(d => d.Available).ToArray(),
            Held = deltas.Select(d => d.Held).ToArray(),
            Confirmed = deltas.Select(d => d.Confirmed).ToArray(),
        }, transaction, cancellationToken: ct));
        if (written != changes.Count)
        {
            // Cannot happen while every writer holds the event lock; if it ever does, roll back rather than
            // move seats for a reservation whose row did not change.
            throw new InvalidOperationException($"Expected to change {changes.Count} reservations, changed {written}.");
        }
    }

    private static (int Available, int Held, int Confirmed) Delta(string from, string to, int q) => (from, to) switch
    {
        (ReservationStatus.Hold, ReservationStatus.Confirmed) => (0, -q, q),
        (ReservationStatus.Hold, _) => (q, -q, 0),
        (ReservationStatus.Confirmed, ReservationStatus.Cancelled) => (q, 0, -q),
        _ => throw new InvalidOperationException($"No transition from {from} to {to}."),
    };

    public Task<Reservation?> GetAsync(Guid reservationId, Guid? ownerId, CancellationToken cancellationToken) =>
        database.WithConnectionAsync(async (connection, ct) =>
        {
            const string sql = $"""
                select {ReservationColumns}
                from reservations
                where id = @Id and (@OwnerId::uuid is null or user_id = @OwnerId::uuid)
                """;
            return await connection.QuerySingleOrDefaultAsync<Reservation>(new CommandDefinition(sql, new { Id = reservationId, OwnerId = ownerId }, cancellationToken: ct));
        }, cancellationToken);

    /// <summary>A user's reservations, newest first, keyset-paginated by id.</summary>
    public Task<IReadOnlyList<Reservation>> ListForUserAsync(Guid userId, Guid? before, int limit, CancellationToken cancellationToken) =>
        database.WithConnectionAsync<IReadOnlyList<Reservation>>(async (connection, ct) =>
        {
            const string sql = $"""
                select {ReservationColumns}
                from reservations
                where user_id = @UserId and (@Before::uuid is null or id < @Before::uuid)
                order by id desc
                limit @Limit
                """;
            return (await connection.QueryAsync<Reservation>(new CommandDefinition(sql, new { UserId = userId, Before = before, Limit = limit }, cancellationToken: ct))).AsList();
        }, cancellationToken);

    /// <summary>
    /// The sweeper: ends every expired hold as EXPIRED and gives its seats back, in bounded batches until none
    /// is left. Safe on several instances at once and beside confirms: each batch locks its events first (in id
    /// order, so sweepers never deadlock each other), and a hold moves out of HOLD exactly once because every
    /// transition is conditional on the status it starts from.
    /// </summary>
    public async Task<SweepResult> ReleaseExpiredHoldsAsync(CancellationToken cancellationToken)
    {
        var total = new SweepResult(0, 0);
        Guid? stuck = null;
        for (var batch = 0; batch < 10_000; batch++)
        {
            var started = Stopwatch.GetTimestamp();
            var (oldest, released) = await database.InTransactionAsync(SweepBatchAsync, cancellationToken);
            total = new SweepResult(total.Holds + released.Holds, total.Seats + released.Seats);
            if (oldest is null)
            {
                break; // nothing left
            }
            if (released.Holds == 0)
            {
                // The batch's candidates were ended by someone else between their reading and the events' locks
                // (another sweeper, a confirm): read again. But if the oldest expired hold is the same one as in
                // the last empty batch, it is locked by a writer that is taking its time: the next run takes it.
                if (oldest == stuck)
                {
                    break;
                }
                stuck = oldest;
                continue;
            }
            stuck = null;
            if (released.Holds >= SweepBatchSize && SweepDutyCycle < 1)
            {
                // A large backlog: yield the database to sales between batches. Nothing waits on the sweeper
                // for seats (a hold short of seats releases its event's expired holds itself).
                var busy = Stopwatch.GetElapsedTime(started);
                await Task.Delay(busy * ((1 - SweepDutyCycle) / SweepDutyCycle), cancellationToken);
            }
        }
        if (total.Holds > 0)
        {
            logger.LogInformation("Sweeper released {Holds} expired holds ({Seats} seats)", total.Holds, total.Seats);
        }
        return total;
    }

    /// <summary>Deletes Idempotency-Key records older than <paramref name="retention"/>, in bounded batches.</summary>
    public async Task<int> DeleteOldIdempotencyKeysAsync(TimeSpan retention, CancellationToken cancellationToken)
    {
        const string sql = """
            delete from idempotency_keys
            where (user_id, key) in (
                select user_id, key from idempotency_keys where created_at < now() - @Retention limit 5000
            )
            """;
        var total = 0;
        while (true)
        {
            // Deleting old keys again is harmless: retried like a read.
            var deleted = await database.WithConnectionAsync((connection, ct) =>
                connection.ExecuteAsync(new CommandDefinition(sql, new { Retention = retention }, cancellationToken: ct)), cancellationToken);
            total += deleted;
            if (deleted < 5000)
            {
                return total;
            }
        }
    }

    /// <summary>
    /// The oldest expired holds, at most a batch of them, read along the expiry index (live holds only). The clock
    /// is an init-plan parameter, so that the index can stop at it: compared with <c>clock_timestamp()</c> itself,
    /// which is volatile, no index condition was possible, and every batch read all live holds or, as the planner
    /// preferred once the table was large, the whole table (0.7 s a batch with 6 million rows, most of a sweep's time).
    /// </summary>
    internal const string SweepCandidatesSql = """
        select id, event_id
        from reservations
        where status = 'HOLD' and expires_at <= (select clock_timestamp())
        order by expires_at
        limit @BatchSize
        """;

    /// <summary>Events one sweep batch may lock at once (their holds wait for it to commit).</summary>
    private const int SweepMaxEvents = 100;

    /// <returns>The oldest expired hold found (null: none), and what the batch ended.</returns>
    private async Task<(Guid? Oldest, SweepResult Released)> SweepBatchAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken ct)
    {
        var candidates = (await connection.QueryAsync<SweepCandidate>(new CommandDefinition(SweepCandidatesSql,
            new { BatchSize = SweepBatchSize }, transaction, cancellationToken: ct))).AsList();
        if (candidates.Count == 0)
        {
            return (null, new SweepResult(0, 0));
        }
        // The events of the oldest holds first (the candidates come in expiry order), then locked in id order.
        var eventIds = candidates.Select(c => c.EventId).Distinct().Take(SweepMaxEvents).Order().ToArray();
        var chosen = eventIds.ToHashSet();
        var ids = candidates.Where(c => chosen.Contains(c.EventId)).Select(c => c.Id).ToArray();
        const string lockSql = """
            select max(clock_timestamp()) from (
                select id from events where id = any(@EventIds) order by id for no key update
            ) locked
            """;
        var now = await connection.QuerySingleAsync<DateTime>(new CommandDefinition(lockSql, new { EventIds = eventIds }, transaction, cancellationToken: ct));
        // The candidates were read before the locks: each is checked again (still a hold, still expired). SKIP
        // LOCKED: with the events locked no other writer should hold these rows; if one ever does, skip it rather
        // than wait, and the next run takes it.
        const string sweepSql = """
            with batch as (
                select id
                from reservations
                where id = any(@Ids) and status = 'HOLD' and expires_at <= @Now
                for update skip locked
            ), expired as (
                update reservations r
                set status = 'EXPIRED', ended_at = @Now
                from batch
                where r.id = batch.id and r.status = 'HOLD'
                returning r.event_id, r.quantity
            ), per_event as (
                select event_id, count(*)::int as holds, sum(quantity)::int as seats from expired group by event_id
            ), counters as (
                update events e
                set available = e.available + p.seats, held = e.held - p.seats
                from per_event p
                where e.id = p.event_id
            )
            select coalesce(sum(holds), 0)::int as holds, coalesce(sum(seats), 0)::int as seats from per_event
            """;
        var released = await connection.QuerySingleAsync<SweepRow>(new CommandDefinition(sweepSql,
            new { Ids = ids, Now = now }, transaction, cancellationToken: ct));
        return (candidates[0].Id, new SweepResult(released.Holds, released.Seats));
    }

    private sealed record SweepCandidate
    {
        public Guid Id { get; init; }
        public Guid EventId { get; init; }
    }

    private sealed record LockedEvent
    {
        public Guid Id { get; init; }
        public int Available { get; init; }
        public DateTime? SalesOpensAt { get; init; }
        public DateTime? SalesClosesAt { get; init; }
        public int? MaxTicketsPerUser { get; init; }
        public int HoldSeconds { get; init; }
        public DateTime Now { get; init; }
    }

    private sealed record SweepRow(int Holds, int Seats);
}
