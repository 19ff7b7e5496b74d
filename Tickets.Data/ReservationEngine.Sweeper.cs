using System.Diagnostics;
using Dapper;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Tickets.Data;

// The sweeper and the idempotency-key cleanup.
public sealed partial class ReservationEngine
{
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
        const string sweepSql = $"""
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
                returning r.id, r.event_id, r.quantity
            ), {ReturnSeatsOfExpiredSql}
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

    private sealed record SweepRow(int Holds, int Seats);

    /// <summary>
    /// Gives the seats of holds just ended as EXPIRED back to their types and events: the rest of a statement
    /// that starts with a <c>expired (id, event_id, quantity)</c> CTE, leaving <c>per_type</c> and <c>per_event</c>
    /// for its final select. The sweeper and a hold short of seats end expired holds with it.
    /// </summary>
    private const string ReturnSeatsOfExpiredSql = """
        per_type as (
            select l.ticket_type_id as type_id, sum(l.quantity)::int as seats
            from expired x
            join reservation_lines l on l.reservation_id = x.id
            group by l.ticket_type_id
        ), per_event as (
            select event_id, count(*)::int as holds, sum(quantity)::int as seats from expired group by event_id
        ), type_counters as (
            update ticket_types t
            set available = t.available + p.seats, held = t.held - p.seats
            from per_type p
            where t.id = p.type_id
        ), event_counters as (
            update events e
            set available = e.available + p.seats, held = e.held - p.seats
            from per_event p
            where e.id = p.event_id
        )
        """;
}
