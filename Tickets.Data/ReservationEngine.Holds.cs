using Dapper;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Tickets.Data;

/// <summary>One line of a hold: seats of one ticket type; a null type means the event's only type.</summary>
public sealed record HoldLine(Guid? TicketTypeId, int Quantity);

/// <summary>A hold of one or more lines of one event, granted whole or not at all.</summary>
public sealed record HoldRequest(Guid UserId, Guid EventId, IReadOnlyList<HoldLine> Lines, IdempotencyKey<HoldResult>? Idempotency = null)
{
    /// <summary>A hold of the event's only type (a buyer who does not name one).</summary>
    public HoldRequest(Guid userId, Guid eventId, int quantity, IdempotencyKey<HoldResult>? idempotency = null)
        : this(userId, eventId, [new HoldLine(null, quantity)], idempotency)
    {
    }

    /// <summary>The seats of all lines (meaningful once <see cref="ReservationEngine.IsValidHold"/> said yes).</summary>
    public int Quantity => Lines.Sum(l => l.Quantity);
}

// The hold path: one transaction per request (HoldInTransactionAsync, which decides request by request), and the
// combiner's batches tried whole first (HoldAllAsync, one statement that only says whether all are granted). The
// rules are those of Refusal and SoldOutLine below; the whole-batch statement checks the same ones, side by side.
public sealed partial class ReservationEngine
{
    public async Task<HoldResult> HoldAsync(HoldRequest request, CancellationToken cancellationToken)
    {
        if (!IsValidHold(request))
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
    /// Lines within bounds: 1 to <see cref="Limits.MaxLinesPerHold"/> lines, each of 1 to
    /// <see cref="Limits.MaxQuantityPerHold"/> seats and all together no more than that, each type named once,
    /// and a line without a type only alone.
    /// </summary>
    internal static bool IsValidHold(HoldRequest request)
    {
        var lines = request.Lines;
        if (lines is null || lines.Count is < 1 or > Limits.MaxLinesPerHold)
        {
            return false;
        }
        long total = 0;
        foreach (var line in lines)
        {
            if (!IsValidQuantity(line.Quantity) || (line.TicketTypeId is null && lines.Count > 1))
            {
                return false;
            }
            total += line.Quantity;
        }
        return IsValidQuantity((int)Math.Min(total, int.MaxValue)) && lines.Select(l => l.TicketTypeId).Distinct().Count() == lines.Count;
    }

    internal static bool IsValidQuantity(int quantity) => quantity is >= 1 and <= Limits.MaxQuantityPerHold;

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
            requests.All(IsValidHold), keys.Count > 0, keys.Distinct().Count() == keys.Count,
            ct => TryHoldAllAsync(requests, ct, lane),
            (connection, transaction, ct) => HoldAllAsync(connection, transaction, requests, ct),
            (connection, transaction, ct) => HoldInTransactionAsync(connection, transaction, requests, ct),
            lane, cancellationToken);
    }

    /// <summary>
    /// Grants the whole batch in one round trip, or nothing: one batch of three statements that PostgreSQL runs
    /// as one implicit transaction. The first writes the holds and their lines, before any lock; the second locks
    /// the events' rows (in id order, as every multi-event writer does); the third, with a snapshot taken after the
    /// locks, checks that every request would be granted by the rules of <see cref="HoldInTransactionAsync"/>
    /// (event and types found, sales open for the event and each type, types on sale, seats in every type's
    /// quota and in every event's capacity, the event's and the types' per-user limits and the live-holds and
    /// held-seats caps, all counting the batch itself) and, only then, moves the events' and the types' counters;
    /// otherwise it raises <see cref="HoldBatchRefused"/>, which rolls the rows back. When every request is
    /// granted, deciding them one by one in order grants them all too, so the answers are the same. Batches with
    /// idempotency keys go through <see cref="HoldAllAsync"/> inside a transaction of their own.
    /// </summary>
    /// <returns>Every request's result, or null when the batch was not granted as a whole (nothing written).</returns>
    internal async Task<HoldResult[]?> TryHoldAllAsync(
        IReadOnlyList<HoldRequest> requests, CancellationToken cancellationToken, ConnectionLane? lane = null)
    {
        try
        {
            return await database.InOneRoundTripAsync((connection, ct) => HoldAllAsync(connection, transaction: null, requests, ct), cancellationToken, lane);
        }
        catch (PostgresException ex) when (ex.SqlState == HoldBatchRefused)
        {
            return null; // rolled back whole: nothing written
        }
    }

    /// <summary>The SQLSTATE the whole-batch decision raises when it does not grant every request (migration 013).</summary>
    private const string HoldBatchRefused = "TK001";

    private const string WholeBatchSavepoint = "whole_hold_batch";

    /// <summary>
    /// The statements of <see cref="TryHoldAllAsync"/>, in the caller's transaction when there is one; there,
    /// requests with idempotency keys are granted only if none of their keys has been used yet, and their
    /// responses are stored before the caller commits.
    /// </summary>
    private async Task<HoldResult[]?> HoldAllAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, IReadOnlyList<HoldRequest> requests, CancellationToken ct)
    {
        // Late locking: the rows are written first, without the events' locks, and only the decision and the
        // counters run under them. Inserting a batch's holds and lines (their indexes, the reference checks, the
        // outbox triggers) is most of what a hold costs PostgreSQL; done before the lock, instances' batches of one
        // hot event do it side by side instead of in turn. No other transaction can see the rows before commit,
        // and a batch that is not granted whole raises HoldBatchRefused in its decision, which rolls the rows back.
        // A line without a type joins every type of its event (exactly one row when the event has one type); the
        // rows that could not be written (no such type, no such event) leave the decision's counts short.
        const string insertSql = """
            with clock as materialized (
                select clock_timestamp() as now
            ), batch as (
                select id, event_id, user_id, quantity
                from unnest(@Ids, @EventIds, @UserIds, @Quantities) as r (id, event_id, user_id, quantity)
            ), lines as materialized (
                select b.id as reservation_id, b.event_id, t.id as type_id, a.quantity, t.price
                from unnest(@LineReservationIds, @LineTypeIds, @LineQuantities) as a (reservation_id, type_id, quantity)
                join batch b on b.id = a.reservation_id
                join ticket_types t on t.event_id = b.event_id and (t.id = a.type_id or a.type_id is null)
            ), inserted as (
                insert into reservations (id, event_id, user_id, quantity, status, created_at, expires_at)
                select b.id, b.event_id, b.user_id, b.quantity, 'HOLD', c.now, c.now + make_interval(secs => e.hold_seconds)
                from batch b
                join events e on e.id = b.event_id
                cross join clock c
                returning id, event_id, expires_at
            ), inserted_lines as (
                insert into reservation_lines (reservation_id, ticket_type_id, quantity, unit_price)
                select l.reservation_id, l.type_id, l.quantity, l.price
                from lines l
                join inserted i on i.id = l.reservation_id
            )
            select c.now, i.id, i.expires_at, l.type_id, l.quantity, l.price, e.currency
            from inserted i
            cross join clock c
            join events e on e.id = i.event_id
            join lines l on l.reservation_id = i.id
            """;
        const string lockSql = """
            select id
            from events
            where id = any(@LockIds)
            order by id
            for no key update
            """;
        // With a snapshot taken after the locks, and from the rows the batch wrote (its own writes are visible to
        // it): every request would be granted by the rules of HoldInTransactionAsync (event and types found, sales
        // open for the event and each type at the holds' creation, types on sale, seats in every type's quota and
        // in every event's capacity, the event's and the types' per-user limits and the live-holds and held-seats
        // caps, all counting the batch itself), and only then the events' and the types' counters move. A row or a
        // line that could not be written leaves a count short; a typeless line on an event of several types wrote
        // one line per type, and leaves the lines' count long.
        const string decideSql = """
            with own as materialized (
                select id, event_id, user_id, quantity, created_at
                from reservations
                where id = any(@Ids)
            ), clock as materialized (
                select min(created_at) as now from own
            ), lines as materialized (
                select o.event_id, o.user_id, l.ticket_type_id as type_id, l.quantity
                from own o
                join reservation_lines l on l.reservation_id = o.id
            ), seats as (
                select event_id, sum(quantity)::int as seats
                from own
                group by event_id
            ), type_seats as (
                select type_id, sum(quantity)::int as seats
                from lines
                group by type_id
            ), decision as materialized (
                select
                    (select count(*) from own) = cardinality(@Ids)
                    and (select count(*) from lines) = @LineCount
                    and not exists (
                        select 1
                        from seats s
                        join events e on e.id = s.event_id
                        where e.available < s.seats
                           or (e.sales_opens_at is not null and c.now < e.sales_opens_at)
                           or (e.sales_closes_at is not null and c.now >= e.sales_closes_at))
                    and not exists (
                        select 1
                        from type_seats s
                        join ticket_types t on t.id = s.type_id
                        where t.available < s.seats
                           or t.state <> 'ON_SALE'
                           or (t.sales_opens_at is not null and c.now < t.sales_opens_at)
                           or (t.sales_closes_at is not null and c.now >= t.sales_closes_at))
                    and not exists (
                        select 1
                        from (select distinct event_id, user_id from own) b
                        join events e on e.id = b.event_id
                        where e.max_tickets_per_user is not null
                          and (select coalesce(sum(r.quantity), 0)
                               from reservations r
                               where r.event_id = b.event_id
                                 and r.user_id = b.user_id
                                 and (r.status = 'CONFIRMED' or (r.status = 'HOLD' and r.expires_at > c.now)))
                              > e.max_tickets_per_user)
                    and not exists (
                        select 1
                        from (select distinct event_id, user_id, type_id from lines) l
                        join ticket_types t on t.id = l.type_id
                        where t.max_tickets_per_user is not null
                          and (select coalesce(sum(rl.quantity), 0)
                               from reservations r
                               join reservation_lines rl on rl.reservation_id = r.id and rl.ticket_type_id = l.type_id
                               where r.event_id = l.event_id
                                 and r.user_id = l.user_id
                                 and (r.status = 'CONFIRMED' or (r.status = 'HOLD' and r.expires_at > c.now)))
                              > t.max_tickets_per_user)
                    and not exists (
                        select 1
                        from idempotency_keys k
                        join unnest(@KeyUserIds, @Keys) as x (user_id, key) on k.user_id = x.user_id and k.key = x.key)
                    and ((@MaxActiveHolds <= 0 and @MaxHeldSeats <= 0) or not exists (
                        select 1
                        from (select distinct user_id from own) b
                        -- The expiry test as a filter, not a condition: the planner must not reach for the expiry
                        -- index (every live hold of every user) when the user's own holds are a handful.
                        cross join lateral (
                            select count(*) filter (where r.expires_at > c.now) as holds,
                                   coalesce(sum(r.quantity) filter (where r.expires_at > c.now), 0) as seats
                            from reservations r
                            where r.user_id = b.user_id and r.status = 'HOLD') live
                        where (@MaxActiveHolds > 0 and live.holds > @MaxActiveHolds)
                           or (@MaxHeldSeats > 0 and live.seats > @MaxHeldSeats)))
                    as ok
                from clock c
            ), counted as (
                update events e
                set available = e.available - s.seats, held = e.held + s.seats
                from seats s
                where e.id = s.event_id and (select ok from decision)
            ), type_counted as (
                update ticket_types t
                set available = t.available - s.seats, held = t.held + s.seats
                from type_seats s
                where t.id = s.type_id and (select ok from decision)
            )
            select case when d.ok then true else hold_batch_refused() end
            from decision d
            """;
        var ids = requests.Select(_ => Guid.CreateVersion7()).ToArray();
        var keyed = requests.Where(r => r.Idempotency is not null).ToList();
        var lineOwners = requests.SelectMany((r, i) => r.Lines.Select(_ => ids[i])).ToArray();
        var lineTypes = requests.SelectMany(r => r.Lines.Select(l => l.TicketTypeId)).ToArray();
        var insert = new NpgsqlBatchCommand(insertSql)
        {
            Parameters =
            {
                new("Ids", ids),
                new("EventIds", requests.Select(r => r.EventId).ToArray()),
                new("UserIds", requests.Select(r => r.UserId).ToArray()),
                new("Quantities", requests.Select(r => r.Quantity).ToArray()),
                new("LineReservationIds", lineOwners),
                new("LineTypeIds", NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Uuid) { Value = lineTypes },
                new("LineQuantities", requests.SelectMany(r => r.Lines.Select(l => l.Quantity)).ToArray()),
            },
        };
        var decide = new NpgsqlBatchCommand(decideSql);
        decide.Parameters.Add(new("Ids", ids));
        decide.Parameters.Add(new("LineCount", lineOwners.Length));
        decide.Parameters.Add(new("MaxActiveHolds", MaxActiveHoldsPerUser));
        decide.Parameters.Add(new("MaxHeldSeats", MaxHeldSeatsPerUser));
        decide.Parameters.Add(new("KeyUserIds", keyed.Select(r => r.UserId).ToArray()));
        decide.Parameters.Add(new("Keys", keyed.Select(r => r.Idempotency!.Key).ToArray()));
        var granted = new Dictionary<Guid, (DateTime ExpiresAt, string Currency, List<ReservationLine> Lines)>(requests.Count);
        var now = default(DateTime);
        try
        {
            // In the caller's transaction a refusal rolls back to the savepoint; without one, PostgreSQL rolls the
            // whole implicit transaction back.
            await using var batch = await PreparedBatchAsync(connection, transaction, transaction is null ? null : WholeBatchSavepoint, ct,
            [
                insert,
                new NpgsqlBatchCommand(lockSql) { Parameters = { new("LockIds", requests.Select(r => r.EventId).Distinct().Order().ToArray()) } },
                decide,
            ]);
            await using var reader = await batch.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                now = reader.GetDateTime(0);
                var id = reader.GetGuid(1);
                if (!granted.TryGetValue(id, out var hold))
                {
                    hold = (reader.GetDateTime(2), reader.GetString(6), []);
                    granted.Add(id, hold);
                }
                hold.Lines.Add(new ReservationLine(reader.GetGuid(3), reader.GetInt32(4), reader.GetInt32(5)));
            }
            await reader.NextResultAsync(ct); // the locked ids
            await reader.NextResultAsync(ct); // the decision: granted, or HoldBatchRefused raised
        }
        catch (PostgresException ex) when (ex.SqlState == HoldBatchRefused && transaction is not null)
        {
            await transaction.RollbackAsync(WholeBatchSavepoint, CancellationToken.None);
            return null;
        }
        if (granted.Count != requests.Count)
        {
            throw new InvalidOperationException($"A granted batch of {requests.Count} holds inserted {granted.Count}.");
        }
        var results = requests.Select((request, i) =>
        {
            var hold = granted[ids[i]];
            return new HoldResult(HoldOutcome.Held, new Reservation
            {
                Id = ids[i],
                EventId = request.EventId,
                UserId = request.UserId,
                Quantity = request.Quantity,
                Status = ReservationStatus.Hold,
                CreatedAt = now,
                ExpiresAt = hold.ExpiresAt,
                Lines = hold.Lines.OrderBy(l => l.TicketTypeId).ToArray(),
                Currency = hold.Currency,
            });
        }).ToArray();
        await IdempotencyRecords.StoreFirstUsesAsync(connection, transaction,
            requests.Select((r, i) => (r.UserId, r.Idempotency, results[i])), ct);
        return results;
    }

    /// <summary>
    /// Decides and applies a batch of holds inside the caller's transaction: the events' rows are locked once
    /// (in id order, like every other multi-event writer, so batches never deadlock) and their types read under
    /// those locks, requests are granted in order while seats last, then one statement inserts the holds and
    /// their lines and moves the events' and the types' counters. A single hold is a batch of one, so the
    /// direct path and the hold combiner share every rule.
    /// </summary>
    internal async Task<HoldResult[]> HoldInTransactionAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<HoldRequest> requests, CancellationToken ct)
    {
        // The clock is read once, after the locks (an uncorrelated sub-select runs once per statement). The types
        // are read by a second statement of the same round trip, after the locks: under them they are stable.
        const string lockSql = """
            select id, available, sales_opens_at, sales_closes_at, max_tickets_per_user, hold_seconds, currency, (select clock_timestamp()) as now
            from events
            where id = any(@EventIds)
            order by id
            for no key update;

            select id, event_id, price, available, sales_opens_at, sales_closes_at, max_tickets_per_user, state
            from ticket_types
            where event_id = any(@EventIds)
            """;
        var eventIds = requests.Select(r => r.EventId).Distinct().Order().ToArray();
        Dictionary<Guid, LockedEvent> events;
        Dictionary<Guid, LockedType> types;
        await using (var read = await connection.QueryMultipleAsync(new CommandDefinition(lockSql, new { EventIds = eventIds }, transaction, cancellationToken: ct)))
        {
            events = (await read.ReadAsync<LockedEvent>()).ToDictionary(e => e.Id);
            types = (await read.ReadAsync<LockedType>()).ToDictionary(t => t.Id);
        }
        var typesOfEvent = types.Values.ToLookup(t => t.EventId);
        var results = new HoldResult[requests.Count];
        var now = events.Count > 0 ? events.Values.First().Now : default;
        var userTotals = await ActiveTicketsPerUserAsync(connection, transaction, events.Values, requests, now, ct);
        var userTypeTotals = await ActiveTicketsPerUserAndTypeAsync(connection, transaction, types.Values, requests, now, ct);
        var activeHolds = await ActiveHoldsPerUserAsync(connection, transaction, requests, now, ct);
        var available = events.Values.ToDictionary(e => e.Id, e => e.Available);
        var typeAvailable = types.Values.ToDictionary(t => t.Id, t => t.Available);
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
            if (!IsValidHold(request))
            {
                return new HoldResult(HoldOutcome.InvalidQuantity);
            }
            if (!events.TryGetValue(request.EventId, out var ev))
            {
                return new HoldResult(HoldOutcome.EventNotFound);
            }
            var (lines, unresolved) = Resolve(request, typesOfEvent[ev.Id].ToList(), types);
            if (unresolved is { } notFound)
            {
                return notFound;
            }
            var userTotal = userTotals.GetValueOrDefault((ev.Id, request.UserId));
            var live = activeHolds.GetValueOrDefault(request.UserId);
            if (Refusal(ev, lines!, now, request, userTotal, t => userTypeTotals.GetValueOrDefault((t, request.UserId)), live) is { } refused)
            {
                return refused;
            }
            if (SoldOutLine(lines!, request.Quantity, available[ev.Id], typeAvailable) is not null && expiredReleased.Add(ev.Id))
            {
                // Short of seats: give back this event's expired holds now rather than when the sweeper runs.
                var freed = await ReleaseExpiredOfEventAsync(connection, transaction, ev.Id, now, ct);
                available[ev.Id] += freed.Seats;
                foreach (var (typeId, seats) in freed.ByType)
                {
                    typeAvailable[typeId] += seats;
                }
            }
            if (SoldOutLine(lines!, request.Quantity, available[ev.Id], typeAvailable) is { } soldOut)
            {
                return soldOut;
            }
            available[ev.Id] -= request.Quantity;
            userTotals[(ev.Id, request.UserId)] = userTotal + request.Quantity;
            activeHolds[request.UserId] = (live.Holds + 1, live.Seats + request.Quantity);
            foreach (var (type, quantity) in lines!)
            {
                typeAvailable[type.Id] -= quantity;
                userTypeTotals[(type.Id, request.UserId)] = userTypeTotals.GetValueOrDefault((type.Id, request.UserId)) + quantity;
            }
            var reservation = new Reservation
            {
                Id = Guid.CreateVersion7(),
                EventId = ev.Id,
                UserId = request.UserId,
                Quantity = request.Quantity,
                Status = ReservationStatus.Hold,
                CreatedAt = now,
                ExpiresAt = now.AddSeconds(ev.HoldSeconds),
                Lines = lines!.Select(l => new ReservationLine(l.Type.Id, l.Quantity, l.Type.Price)).OrderBy(l => l.TicketTypeId).ToArray(),
                Currency = ev.Currency,
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
                ), inserted_lines as (
                    insert into reservation_lines (reservation_id, ticket_type_id, quantity, unit_price)
                    select reservation_id, ticket_type_id, quantity, unit_price
                    from unnest(@LineReservationIds, @LineTypeIds, @LineQuantities, @LinePrices) as l (reservation_id, ticket_type_id, quantity, unit_price)
                ), type_counted as (
                    update ticket_types t
                    set available = t.available - s.seats, held = t.held + s.seats
                    from unnest(@SeatTypeIds, @TypeSeats) as s (type_id, seats)
                    where t.id = s.type_id
                )
                update events e
                set available = e.available - s.seats, held = e.held + s.seats
                from unnest(@SeatEventIds, @Seats) as s (event_id, seats)
                where e.id = s.event_id
                """;
            var seats = granted.GroupBy(r => r.EventId).Select(g => (EventId: g.Key, Seats: g.Sum(r => r.Quantity))).ToArray();
            var lines = granted.SelectMany(r => r.Lines.Select(l => (ReservationId: r.Id, Line: l))).ToArray();
            var typeSeats = lines.GroupBy(l => l.Line.TicketTypeId).Select(g => (TypeId: g.Key, Seats: g.Sum(l => l.Line.Quantity))).ToArray();
            await connection.ExecuteAsync(new CommandDefinition(insertSql, new
            {
                Now = now,
                Ids = granted.Select(r => r.Id).ToArray(),
                EventIds = granted.Select(r => r.EventId).ToArray(),
                UserIds = granted.Select(r => r.UserId).ToArray(),
                Quantities = granted.Select(r => r.Quantity).ToArray(),
                ExpiresAts = granted.Select(r => r.ExpiresAt).ToArray(),
                LineReservationIds = lines.Select(l => l.ReservationId).ToArray(),
                LineTypeIds = lines.Select(l => l.Line.TicketTypeId).ToArray(),
                LineQuantities = lines.Select(l => l.Line.Quantity).ToArray(),
                LinePrices = lines.Select(l => l.Line.UnitPrice).ToArray(),
                SeatTypeIds = typeSeats.Select(x => x.TypeId).ToArray(),
                TypeSeats = typeSeats.Select(x => x.Seats).ToArray(),
                SeatEventIds = seats.Select(x => x.EventId).ToArray(),
                Seats = seats.Select(x => x.Seats).ToArray(),
            }, transaction, cancellationToken: ct));
        }
        await IdempotencyRecords.InsertAsync(connection, transaction, newKeys, ct);
        return results;
    }

    /// <summary>Each line's type: the named one if it is the event's, else the event's only type.</summary>
    private static (List<(LockedType Type, int Quantity)>? Lines, HoldResult? Refusal) Resolve(
        HoldRequest request, List<LockedType> eventTypes, Dictionary<Guid, LockedType> types)
    {
        var lines = new List<(LockedType, int)>(request.Lines.Count);
        for (var i = 0; i < request.Lines.Count; i++)
        {
            var line = request.Lines[i];
            if (line.TicketTypeId is not { } typeId)
            {
                if (eventTypes.Count != 1)
                {
                    return (null, new HoldResult(HoldOutcome.TicketTypeRequired));
                }
                lines.Add((eventTypes[0], line.Quantity));
            }
            else if (types.TryGetValue(typeId, out var type) && type.EventId == request.EventId)
            {
                lines.Add((type, line.Quantity));
            }
            else
            {
                return (null, new HoldResult(HoldOutcome.TicketTypeNotFound, Line: i, TicketTypeId: typeId));
            }
        }
        return (lines, null);
    }

    /// <summary>
    /// Why a hold of these lines is refused, seats apart (<see cref="SoldOutLine"/>), or null: the event's sales
    /// window, each type's state and window, the event's per-user limit over all its types, each type's own
    /// limit, then the caps across events. The first refusal found is the answer.
    /// </summary>
    private HoldResult? Refusal(LockedEvent ev, List<(LockedType Type, int Quantity)> lines, DateTime now, HoldRequest request,
        int userTotal, Func<Guid, int> userTypeTotal, (int Holds, int Seats) live)
    {
        if (ev.SalesOpensAt is { } opens && now < opens)
        {
            return new HoldResult(HoldOutcome.SalesNotOpen);
        }
        if (ev.SalesClosesAt is { } closes && now >= closes)
        {
            return new HoldResult(HoldOutcome.SalesClosed);
        }
        for (var i = 0; i < lines.Count; i++)
        {
            var type = lines[i].Type;
            var outcome = type.State != TicketTypeState.OnSale ? HoldOutcome.TicketTypeNotOnSale
                : type.SalesOpensAt is { } typeOpens && now < typeOpens ? HoldOutcome.SalesNotOpen
                : type.SalesClosesAt is { } typeCloses && now >= typeCloses ? HoldOutcome.SalesClosed
                : (HoldOutcome?)null;
            if (outcome is { } refused)
            {
                return new HoldResult(refused, Line: i, TicketTypeId: type.Id);
            }
        }
        if (ev.MaxTicketsPerUser is { } max && userTotal + request.Quantity > max)
        {
            return new HoldResult(HoldOutcome.LimitExceeded);
        }
        for (var i = 0; i < lines.Count; i++)
        {
            var (type, quantity) = lines[i];
            if (type.MaxTicketsPerUser is { } typeMax && userTypeTotal(type.Id) + quantity > typeMax)
            {
                return new HoldResult(HoldOutcome.LimitExceeded, Line: i, TicketTypeId: type.Id);
            }
        }
        if (MaxActiveHoldsPerUser > 0 && live.Holds >= MaxActiveHoldsPerUser)
        {
            return new HoldResult(HoldOutcome.TooManyActiveHolds);
        }
        if (MaxHeldSeatsPerUser > 0 && live.Seats + request.Quantity > MaxHeldSeatsPerUser)
        {
            return new HoldResult(HoldOutcome.TooManyHeldSeats);
        }
        return null;
    }

    /// <summary>A line whose type's quota is short, else the venue (the event's capacity) short, else null.</summary>
    private static HoldResult? SoldOutLine(List<(LockedType Type, int Quantity)> lines, int quantity, int eventAvailable, Dictionary<Guid, int> typeAvailable)
    {
        for (var i = 0; i < lines.Count; i++)
        {
            if (lines[i].Quantity > typeAvailable[lines[i].Type.Id])
            {
                return new HoldResult(HoldOutcome.SoldOut, Line: i, TicketTypeId: lines[i].Type.Id);
            }
        }
        return quantity > eventAvailable ? new HoldResult(HoldOutcome.SoldOut) : null;
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

    /// <summary>Tickets each requesting user already has (live holds and confirmed) per type with a limit of its own.</summary>
    private static async Task<Dictionary<(Guid TypeId, Guid UserId), int>> ActiveTicketsPerUserAndTypeAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IEnumerable<LockedType> types, IReadOnlyList<HoldRequest> requests,
        DateTime now, CancellationToken ct)
    {
        var limited = types.Where(t => t.MaxTicketsPerUser is not null).ToList();
        if (limited.Count == 0)
        {
            return [];
        }
        const string sql = """
            select l.ticket_type_id, r.user_id, sum(l.quantity)::int as quantity
            from reservations r
            join reservation_lines l on l.reservation_id = r.id
            where r.event_id = any(@EventIds)
              and r.user_id = any(@UserIds)
              and l.ticket_type_id = any(@TypeIds)
              and (r.status = 'CONFIRMED' or (r.status = 'HOLD' and r.expires_at > @Now))
            group by l.ticket_type_id, r.user_id
            """;
        var eventIds = limited.Select(t => t.EventId).ToHashSet();
        var userIds = requests.Where(r => eventIds.Contains(r.EventId)).Select(r => r.UserId).Distinct().ToArray();
        var rows = await connection.QueryAsync<(Guid TypeId, Guid UserId, int Quantity)>(new CommandDefinition(sql,
            new { EventIds = eventIds.ToArray(), UserIds = userIds, TypeIds = limited.Select(t => t.Id).ToArray(), Now = now },
            transaction, cancellationToken: ct));
        return rows.ToDictionary(r => (r.TypeId, r.UserId), r => r.Quantity);
    }

    /// <returns>The seats given back, in all and per type.</returns>
    private async Task<(int Seats, IReadOnlyList<(Guid TypeId, int Seats)> ByType)> ReleaseExpiredOfEventAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid eventId, DateTime now, CancellationToken ct)
    {
        const string sql = $"""
            with expired as (
                update reservations
                set status = 'EXPIRED', ended_at = @Now
                where event_id = @EventId and status = 'HOLD' and expires_at <= @Now
                returning id, event_id, quantity
            ), {ReturnSeatsOfExpiredSql}
            select t.type_id, t.seats, (select count(*)::int from expired) as holds
            from per_type t
            """;
        var rows = (await connection.QueryAsync<(Guid TypeId, int Seats, int Holds)>(new CommandDefinition(sql,
            new { EventId = eventId, Now = now }, transaction, cancellationToken: ct))).AsList();
        if (rows.Count == 0)
        {
            return (0, []);
        }
        var seats = rows.Sum(r => r.Seats);
        logger.LogInformation("Hold on {EventId} released {Holds} expired holds ({Seats} seats) before the sweeper", eventId, rows[0].Holds, seats);
        return (seats, rows.Select(r => (r.TypeId, r.Seats)).ToArray());
    }

    private sealed record LockedEvent
    {
        public Guid Id { get; init; }
        public int Available { get; init; }
        public DateTime? SalesOpensAt { get; init; }
        public DateTime? SalesClosesAt { get; init; }
        public int? MaxTicketsPerUser { get; init; }
        public int HoldSeconds { get; init; }
        public string Currency { get; init; } = "";
        public DateTime Now { get; init; }
    }

    private sealed record LockedType
    {
        public Guid Id { get; init; }
        public Guid EventId { get; init; }
        public int Price { get; init; }
        public int Available { get; init; }
        public DateTime? SalesOpensAt { get; init; }
        public DateTime? SalesClosesAt { get; init; }
        public int? MaxTicketsPerUser { get; init; }
        public string State { get; init; } = "";
    }
}
