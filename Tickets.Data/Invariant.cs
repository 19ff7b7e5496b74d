using Dapper;
using Npgsql;

namespace Tickets.Data;

/// <summary>
/// The invariant checked against the rows themselves, beyond what the CHECK constraints can see: for every event
/// the counters add up to capacity, none is negative, and held/confirmed equal the seats of HOLD/CONFIRMED
/// reservations. Used by the tests and the benchmark after every phase; safe to run on a live database (read only).
/// </summary>
public static class Invariant
{
    /// <returns>The ids of events whose counters do not match their reservations (empty when all is well).</returns>
    public static async Task<IReadOnlyList<Guid>> BrokenEventsAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        // One pass over the live reservations, grouped by event (a per-event subquery without the status test
        // could not use the partial index and read the whole table once per event: 30 s at 5 million rows).
        const string sql = """
            select e.id
            from events e
            left join (
                select event_id,
                       sum(quantity) filter (where status = 'HOLD') as held,
                       sum(quantity) filter (where status = 'CONFIRMED') as confirmed
                from reservations
                where status in ('HOLD', 'CONFIRMED')
                group by event_id
            ) r on r.event_id = e.id
            where e.available < 0 or e.held <> coalesce(r.held, 0) or e.confirmed <> coalesce(r.confirmed, 0)
               or e.available + e.held + e.confirmed <> e.capacity
            """;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<Guid>(new CommandDefinition(sql, cancellationToken: cancellationToken))).AsList();
    }
}
