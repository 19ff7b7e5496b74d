using Dapper;
using Npgsql;

namespace Tickets.Data;

public sealed record NewEvent(
    string Name,
    int Capacity,
    DateTime? SalesOpensAt = null,
    DateTime? SalesClosesAt = null,
    int? MaxTicketsPerUser = null,
    int HoldSeconds = Limits.DefaultHoldSeconds);

/// <summary>A partial update: null leaves a field as it is; the Clear flags set a nullable field to null.</summary>
public sealed record EventChanges
{
    public string? Name { get; init; }
    public int? Capacity { get; init; }
    public DateTime? SalesOpensAt { get; init; }
    public bool ClearSalesOpensAt { get; init; }
    public DateTime? SalesClosesAt { get; init; }
    public bool ClearSalesClosesAt { get; init; }
    public int? MaxTicketsPerUser { get; init; }
    public bool ClearMaxTicketsPerUser { get; init; }
    public int? HoldSeconds { get; init; }
}

/// <summary>Events and their seat counters.</summary>
public sealed class EventStore(Database database)
{
    private const string EventColumns = """
        id, name, capacity, available, held, confirmed, sales_opens_at, sales_closes_at,
        max_tickets_per_user, hold_seconds, created_at, updated_at
        """;

    public Task<Event> CreateAsync(NewEvent e, CancellationToken cancellationToken) =>
        database.InOneRoundTripAsync(async (connection, ct) =>
        {
            const string sql = $"""
                insert into events (id, name, capacity, available, sales_opens_at, sales_closes_at, max_tickets_per_user, hold_seconds)
                values (@Id, @Name, @Capacity, @Capacity, @SalesOpensAt, @SalesClosesAt, @MaxTicketsPerUser, @HoldSeconds)
                returning {EventColumns}
                """;
            return await connection.QuerySingleAsync<Event>(new CommandDefinition(sql, new
            {
                Id = Guid.CreateVersion7(),
                e.Name,
                e.Capacity,
                e.SalesOpensAt,
                e.SalesClosesAt,
                e.MaxTicketsPerUser,
                e.HoldSeconds,
            }, cancellationToken: ct));
        }, cancellationToken);

    public Task<Event?> GetAsync(Guid id, CancellationToken cancellationToken) =>
        database.WithConnectionAsync(async (connection, ct) =>
        {
            const string sql = $"select {EventColumns} from events where id = @Id";
            return await connection.QuerySingleOrDefaultAsync<Event>(new CommandDefinition(sql, new { Id = id }, cancellationToken: ct));
        }, cancellationToken);

    /// <summary>Keyset pagination in id order (ids are time-ordered UUIDv7), newest last.</summary>
    public Task<IReadOnlyList<Event>> ListAsync(Guid? after, int limit, CancellationToken cancellationToken) =>
        database.WithConnectionAsync<IReadOnlyList<Event>>(async (connection, ct) =>
        {
            const string sql = $"""
                select {EventColumns}
                from events
                where @After::uuid is null or id > @After::uuid
                order by id
                limit @Limit
                """;
            return (await connection.QueryAsync<Event>(new CommandDefinition(sql, new { After = after, Limit = limit }, cancellationToken: ct))).AsList();
        }, cancellationToken);

    /// <summary>
    /// Applies <paramref name="changes"/> in one conditional UPDATE. Capacity moves <c>available</c> by the same
    /// amount and may never go below held + confirmed; the row lock serializes this with holds.
    /// </summary>
    public Task<EventUpdateResult> UpdateAsync(Guid id, EventChanges changes, CancellationToken cancellationToken) =>
        // Applying the same changes again gives the same row (capacity moves available by the difference to the
        // stored capacity): retried like a read.
        database.WithConnectionAsync(async (connection, ct) =>
        {
            const string sql = $"""
                update events set
                    name = coalesce(@Name, name),
                    capacity = coalesce(@Capacity, capacity),
                    available = available + coalesce(@Capacity, capacity) - capacity,
                    sales_opens_at = case when @ClearSalesOpensAt then null else coalesce(@SalesOpensAt, sales_opens_at) end,
                    sales_closes_at = case when @ClearSalesClosesAt then null else coalesce(@SalesClosesAt, sales_closes_at) end,
                    max_tickets_per_user = case when @ClearMaxTicketsPerUser then null else coalesce(@MaxTicketsPerUser, max_tickets_per_user) end,
                    hold_seconds = coalesce(@HoldSeconds, hold_seconds),
                    updated_at = now()
                where id = @Id
                  and coalesce(@Capacity, capacity) >= held + confirmed
                returning {EventColumns}
                """;
            try
            {
                var updated = await connection.QuerySingleOrDefaultAsync<Event>(new CommandDefinition(sql, new
                {
                    Id = id,
                    changes.Name,
                    changes.Capacity,
                    changes.SalesOpensAt,
                    changes.ClearSalesOpensAt,
                    changes.SalesClosesAt,
                    changes.ClearSalesClosesAt,
                    changes.MaxTicketsPerUser,
                    changes.ClearMaxTicketsPerUser,
                    changes.HoldSeconds,
                }, cancellationToken: ct));
                if (updated is not null)
                {
                    return new EventUpdateResult(EventUpdateOutcome.Updated, updated);
                }
            }
            catch (PostgresException ex) when (ex.ConstraintName == "events_sales_window")
            {
                return new EventUpdateResult(EventUpdateOutcome.InvalidSalesWindow);
            }
            const string existsSql = "select exists (select 1 from events where id = @Id)";
            var exists = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(existsSql, new { Id = id }, cancellationToken: ct));
            return new EventUpdateResult(exists ? EventUpdateOutcome.CapacityBelowCommitted : EventUpdateOutcome.NotFound);
        }, cancellationToken);
}
