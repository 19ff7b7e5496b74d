using Dapper;
using Npgsql;

namespace Tickets.Data;

/// <summary>
/// The invariant checked against the rows themselves, beyond what the CHECK constraints and the commit-time
/// trigger can see: for every event the counters add up to capacity, none is negative, held/confirmed equal the
/// seats of HOLD/CONFIRMED reservations and the sums over its ticket types; for every type the same over its quota
/// and its lines; every reservation's seats are the sum of its lines, each line of a type of the reservation's
/// event. Used by the tests and the benchmark after every phase; safe to run on a live database (read only).
/// The README's runbook query is this statement.
/// </summary>
public static class Invariant
{
    /// <returns>The ids of events whose counters do not match their types and reservations (empty when all is well).</returns>
    public static async Task<IReadOnlyList<Guid>> BrokenEventsAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        // One pass over the live reservations and one over their lines, grouped (a per-event subquery without the
        // status test could not use the partial index and read the whole table once per event: 30 s at 5 million
        // rows). Lines of ended reservations are checked against their reservation only.
        const string sql = """
            with live as (
                select id, event_id, status, quantity
                from reservations
                where status in ('HOLD', 'CONFIRMED')
            ), by_event as (
                select event_id,
                       sum(quantity) filter (where status = 'HOLD') as held,
                       sum(quantity) filter (where status = 'CONFIRMED') as confirmed
                from live
                group by event_id
            ), by_type as (
                select l.ticket_type_id,
                       sum(l.quantity) filter (where r.status = 'HOLD') as held,
                       sum(l.quantity) filter (where r.status = 'CONFIRMED') as confirmed
                from live r
                join reservation_lines l on l.reservation_id = r.id
                group by l.ticket_type_id
            ), type_sums as (
                select event_id, sum(held) as held, sum(confirmed) as confirmed
                from ticket_types
                group by event_id
            )
            select e.id
            from events e
            left join by_event r on r.event_id = e.id
            left join type_sums s on s.event_id = e.id
            where e.available < 0 or e.held <> coalesce(r.held, 0) or e.confirmed <> coalesce(r.confirmed, 0)
               or e.available + e.held + e.confirmed <> e.capacity
               or e.held <> coalesce(s.held, 0) or e.confirmed <> coalesce(s.confirmed, 0)
            union
            select t.event_id
            from ticket_types t
            left join by_type b on b.ticket_type_id = t.id
            where t.available < 0 or t.held <> coalesce(b.held, 0) or t.confirmed <> coalesce(b.confirmed, 0)
               or t.available + t.held + t.confirmed <> t.capacity
            union
            select r.event_id
            from reservations r
            left join reservation_lines l on l.reservation_id = r.id
            left join ticket_types t on t.id = l.ticket_type_id
            group by r.id, r.event_id, r.quantity
            having r.quantity <> coalesce(sum(l.quantity), 0) or bool_or(t.event_id is distinct from r.event_id)
            """;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<Guid>(new CommandDefinition(sql, cancellationToken: cancellationToken))).AsList();
    }
}
