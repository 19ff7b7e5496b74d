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
        const string sql = """
            select e.id
            from events e
            left join lateral (
                select coalesce(sum(quantity) filter (where status = 'HOLD'), 0) as held,
                       coalesce(sum(quantity) filter (where status = 'CONFIRMED'), 0) as confirmed
                from reservations r where r.event_id = e.id
            ) r on true
            where e.available < 0 or e.held <> r.held or e.confirmed <> r.confirmed
               or e.available + e.held + e.confirmed <> e.capacity
            """;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<Guid>(new CommandDefinition(sql, cancellationToken: cancellationToken))).AsList();
    }
}
