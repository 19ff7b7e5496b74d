using System.Diagnostics;
using Dapper;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Tickets.Data;

public enum Transition
{
    Confirm,
    Release,
    Cancel,
}

/// <summary>A change of one reservation; <paramref name="OwnerId"/> null means an admin acting on anyone's.</summary>
public sealed record ChangeRequest(Guid ReservationId, Guid? OwnerId, Transition Transition, IdempotencyKey<ChangeResult>? Idempotency = null);


// The change path: confirm, release and cancel, one at a time or in the combiner's batches tried whole first.
public sealed partial class ReservationEngine
{
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
        const string readSql = $"""
            with picked as (select unnest(@Ids) as id)
            {ReservationWithLinesSql}
            """;
        var current = locked.Count == 0
            ? []
            : (await ReadReservationsAsync(connection, new CommandDefinition(readSql, new { Ids = ids }, transaction, cancellationToken: ct))).ToDictionary(r => r.Id);
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
            ), changed_lines as materialized (
                select ch.id, l.ticket_type_id, l.quantity, l.unit_price, ch.status
                from changed ch
                join reservation_lines l on l.reservation_id = ch.id
            ), type_seats as (
                select ticket_type_id,
                       coalesce(sum(quantity) filter (where status = 'CONFIRMED'), 0)::int as confirmed,
                       coalesce(sum(quantity) filter (where status = 'RELEASED'), 0)::int as released
                from changed_lines
                group by ticket_type_id
            ), type_counted as (
                update ticket_types t
                set held = t.held - s.confirmed - s.released, confirmed = t.confirmed + s.confirmed, available = t.available + s.released
                from type_seats s
                where t.id = s.ticket_type_id
            )
            select d.ok, ch.id, ch.event_id, ch.user_id, ch.quantity, ch.status, ch.created_at, ch.expires_at, ch.confirmed_at, ch.ended_at,
                   e.currency, l.ticket_type_id, l.quantity, l.unit_price
            from decision d
            left join changed ch on true
            left join events e on e.id = ch.event_id
            left join changed_lines l on l.id = ch.id
            """;
        var ids = requests.Select(r => r.ReservationId).ToArray();
        var keyed = requests.Where(r => r.Idempotency is not null).ToList();
        ChangeResult[] results;
        await using (var batch = await PreparedBatchAsync(connection, transaction, savepoint: null, ct,
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
            var lines = new Dictionary<Guid, List<ReservationLine>>(requests.Count);
            while (await reader.ReadAsync(ct))
            {
                if (!reader.GetBoolean(0))
                {
                    return null;
                }
                var id = reader.GetGuid(1);
                if (!changed.ContainsKey(id))
                {
                    lines[id] = [];
                    changed.Add(id, new Reservation
                    {
                        Id = id,
                        EventId = reader.GetGuid(2),
                        UserId = reader.GetGuid(3),
                        Quantity = reader.GetInt32(4),
                        Status = reader.GetString(5),
                        CreatedAt = reader.GetDateTime(6),
                        ExpiresAt = reader.GetDateTime(7),
                        ConfirmedAt = reader.IsDBNull(8) ? null : reader.GetDateTime(8),
                        EndedAt = reader.IsDBNull(9) ? null : reader.GetDateTime(9),
                        Currency = reader.GetString(10),
                        Lines = lines[id],
                    });
                }
                lines[id].Add(new ReservationLine(reader.GetGuid(11), reader.GetInt32(12), reader.GetInt32(13)));
            }
            foreach (var list in lines.Values)
            {
                list.Sort((a, b) => a.TicketTypeId.CompareTo(b.TicketTypeId));
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

    /// <summary>
    /// Writes the reservations' new statuses and moves their seats between the counters of their events and of
    /// their lines' types, by the one rule of <see cref="SeatMove"/>.
    /// </summary>
    private static async Task ApplyAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, List<(Reservation From, Reservation To)> changes, DateTime now, CancellationToken ct)
    {
        const string sql = """
            with moves as (
                select id, from_status, to_status, available, held, confirmed
                from unnest(@Ids, @FromStatuses, @ToStatuses, @Available, @Held, @Confirmed)
                    as m (id, from_status, to_status, available, held, confirmed)
            ), changed as (
                update reservations r
                set status = m.to_status,
                    confirmed_at = case when m.to_status = 'CONFIRMED' then @Now else r.confirmed_at end,
                    ended_at = case when m.to_status = 'CONFIRMED' then null else @Now end
                from moves m
                where r.id = m.id and r.status = m.from_status
                returning r.id
            ), counters as (
                update events e
                set available = e.available + d.available, held = e.held + d.held, confirmed = e.confirmed + d.confirmed
                from (
                    select r.event_id, sum(r.quantity * m.available)::int as available, sum(r.quantity * m.held)::int as held,
                           sum(r.quantity * m.confirmed)::int as confirmed
                    from moves m
                    join reservations r on r.id = m.id
                    group by r.event_id
                ) d
                where e.id = d.event_id
            ), type_counters as (
                update ticket_types t
                set available = t.available + d.available, held = t.held + d.held, confirmed = t.confirmed + d.confirmed
                from (
                    select l.ticket_type_id, sum(l.quantity * m.available)::int as available, sum(l.quantity * m.held)::int as held,
                           sum(l.quantity * m.confirmed)::int as confirmed
                    from moves m
                    join reservation_lines l on l.reservation_id = m.id
                    group by l.ticket_type_id
                ) d
                where t.id = d.ticket_type_id
            )
            select count(*)::int from changed
            """;
        var moves = changes.Select(c => SeatMove(c.From.Status, c.To.Status)).ToArray();
        var written = await connection.ExecuteScalarAsync<int>(new CommandDefinition(sql, new
        {
            Now = now,
            Ids = changes.Select(c => c.From.Id).ToArray(),
            FromStatuses = changes.Select(c => c.From.Status).ToArray(),
            ToStatuses = changes.Select(c => c.To.Status).ToArray(),
            Available = moves.Select(m => m.Available).ToArray(),
            Held = moves.Select(m => m.Held).ToArray(),
            Confirmed = moves.Select(m => m.Confirmed).ToArray(),
        }, transaction, cancellationToken: ct));
        if (written != changes.Count)
        {
            // Cannot happen while every writer holds the event lock; if it ever does, roll back rather than
            // move seats for a reservation whose row did not change.
            throw new InvalidOperationException($"Expected to change {changes.Count} reservations, changed {written}.");
        }
    }

    /// <summary>What a transition does to the counters, per seat (of the event, and of each line's type).</summary>
    private static (int Available, int Held, int Confirmed) SeatMove(string from, string to) => (from, to) switch
    {
        (ReservationStatus.Hold, ReservationStatus.Confirmed) => (0, -1, 1),
        (ReservationStatus.Hold, _) => (1, -1, 0),
        (ReservationStatus.Confirmed, ReservationStatus.Cancelled) => (1, 0, -1),
        _ => throw new InvalidOperationException($"No transition from {from} to {to}."),
    };
}
