using Dapper;
using Npgsql;

namespace Tickets.Data;

public sealed record NewEvent(
    string Name,
    int Capacity,
    DateTime? SalesOpensAt = null,
    DateTime? SalesClosesAt = null,
    int? MaxTicketsPerUser = null,
    int HoldSeconds = Limits.DefaultHoldSeconds,
    string Currency = Limits.DefaultCurrency,
    IReadOnlyList<NewTicketType>? TicketTypes = null);

/// <summary>
/// The fields an event and a ticket type both sell by, changed the same way on either: null leaves a field as it
/// is; the Clear flags set a nullable field to null.
/// </summary>
public abstract record SaleChanges
{
    public string? Name { get; init; }
    public int? Capacity { get; init; }
    public DateTime? SalesOpensAt { get; init; }
    public bool ClearSalesOpensAt { get; init; }
    public DateTime? SalesClosesAt { get; init; }
    public bool ClearSalesClosesAt { get; init; }
    public int? MaxTicketsPerUser { get; init; }
    public bool ClearMaxTicketsPerUser { get; init; }
}

/// <summary>A partial update of an event (see <see cref="SaleChanges"/>).</summary>
public sealed record EventChanges : SaleChanges
{
    public int? HoldSeconds { get; init; }
}

/// <summary>Events with their seat counters and ticket types.</summary>
public sealed class EventStore(Database database)
{
    private const string EventColumns = """
        id, name, capacity, available, held, confirmed, sales_opens_at, sales_closes_at,
        max_tickets_per_user, hold_seconds, currency, created_at, updated_at
        """;

    /// <summary>
    /// Events (from a <c>picked</c> CTE with <see cref="EventColumns"/>) with their types, one row per type, in
    /// one statement: the counters of an event and of its types come from one snapshot.
    /// </summary>
    private const string EventsWithTypesSql = $"""
        select p.id, p.name, p.capacity, p.available, p.held, p.confirmed, p.sales_opens_at, p.sales_closes_at,
               p.max_tickets_per_user, p.hold_seconds, p.currency, p.created_at, p.updated_at,
               {TicketTypeStore.TypeColumnsOfT}
        from picked p
        left join ticket_types t on t.event_id = p.id
        order by p.id, t.sort_order, t.id
        """;

    /// <summary>
    /// Creates the event and its types (one default type with the event's capacity and price 0 when none are
    /// given) in one round trip, as one implicit transaction.
    /// </summary>
    public Task<Event> CreateAsync(NewEvent e, CancellationToken cancellationToken) =>
        database.InOneRoundTripAsync(async (connection, ct) =>
        {
            const string sql = $"""
                insert into events (id, name, capacity, available, sales_opens_at, sales_closes_at, max_tickets_per_user, hold_seconds, currency)
                values (@Id, @Name, @Capacity, @Capacity, @SalesOpensAt, @SalesClosesAt, @MaxTicketsPerUser, @HoldSeconds, @Currency);

                {TicketTypeStore.InsertTypesSql};

                with picked as (select {EventColumns} from events where id = @Id)
                {EventsWithTypesSql}
                """;
            var id = Guid.CreateVersion7();
            var types = e.TicketTypes is { Count: > 0 } given ? given : [new NewTicketType(Limits.DefaultTicketTypeName, 0, e.Capacity)];
            var parameters = TicketTypeStore.InsertParameters(id, types);
            parameters.AddDynamicParams(new { Id = id, e.Name, e.Capacity, e.SalesOpensAt, e.SalesClosesAt, e.MaxTicketsPerUser, e.HoldSeconds, e.Currency });
            return (await ReadAsync(connection, new CommandDefinition(sql, parameters, cancellationToken: ct)))[0];
        }, cancellationToken);

    public Task<Event?> GetAsync(Guid id, CancellationToken cancellationToken) =>
        database.WithConnectionAsync(async (connection, ct) =>
        {
            const string sql = $"""
                with picked as (select {EventColumns} from events where id = @Id)
                {EventsWithTypesSql}
                """;
            var found = await ReadAsync(connection, new CommandDefinition(sql, new { Id = id }, cancellationToken: ct));
            return found.Count == 0 ? null : found[0];
        }, cancellationToken);

    /// <summary>Keyset pagination in id order (ids are time-ordered UUIDv7), newest last.</summary>
    public Task<IReadOnlyList<Event>> ListAsync(Guid? after, int limit, CancellationToken cancellationToken) =>
        database.WithConnectionAsync<IReadOnlyList<Event>>(async (connection, ct) =>
        {
            const string sql = $"""
                with picked as (
                    select {EventColumns}
                    from events
                    where @After::uuid is null or id > @After::uuid
                    order by id
                    limit @Limit
                )
                {EventsWithTypesSql}
                """;
            return await ReadAsync(connection, new CommandDefinition(sql, new { After = after, Limit = limit }, cancellationToken: ct));
        }, cancellationToken);

    /// <summary>Runs an <see cref="EventsWithTypesSql"/> statement (the last of its command) and folds its rows into events.</summary>
    internal static async Task<List<Event>> ReadAsync(NpgsqlConnection connection, CommandDefinition command)
    {
        var rows = await connection.QueryAsync<Event, TicketType?, (Event Event, TicketType? Type)>(command, (e, t) => (e, t), splitOn: "id");
        var events = new List<Event>();
        foreach (var group in rows.GroupBy(r => r.Event.Id))
        {
            events.Add(group.First().Event with { TicketTypes = group.Where(r => r.Type is not null).Select(r => r.Type!).ToArray() });
        }
        return events;
    }

    /// <summary>
    /// Applies <paramref name="changes"/> in one conditional UPDATE. Capacity moves <c>available</c> by the same
    /// amount and may never go below held + confirmed; the row lock serializes this with holds.
    /// </summary>
    /// <remarks>
    /// An event whose only type has the event's capacity as its quota (the default type of an event created
    /// without types) keeps it so: the type's quota follows a change of the event's capacity.
    /// </remarks>
    public Task<EventUpdateResult> UpdateAsync(Guid id, EventChanges changes, CancellationToken cancellationToken) =>
        // Applying the same changes again gives the same rows (capacity moves available by the difference to the
        // stored capacity; a type follows only a capacity that changes): retried like a read.
        database.WithConnectionAsync(async (connection, ct) =>
        {
            const string sql = $"""
                with locked as (
                    -- The row as it is once locked, and what it becomes.
                    select id, capacity as old_capacity,
                           coalesce(@Name, name) as name,
                           coalesce(@Capacity, capacity) as capacity,
                           case when @ClearSalesOpensAt then null else coalesce(@SalesOpensAt, sales_opens_at) end as sales_opens_at,
                           case when @ClearSalesClosesAt then null else coalesce(@SalesClosesAt, sales_closes_at) end as sales_closes_at,
                           case when @ClearMaxTicketsPerUser then null else coalesce(@MaxTicketsPerUser, max_tickets_per_user) end as max_tickets_per_user,
                           coalesce(@HoldSeconds, hold_seconds) as hold_seconds
                    from events
                    where id = @Id
                    for no key update
                ), updated as (
                    update events e set
                        name = l.name,
                        capacity = l.capacity,
                        available = e.available + l.capacity - e.capacity,
                        sales_opens_at = l.sales_opens_at,
                        sales_closes_at = l.sales_closes_at,
                        max_tickets_per_user = l.max_tickets_per_user,
                        hold_seconds = l.hold_seconds,
                        -- Moved only by a change: the same changes applied again leave the row as it was, and send no
                        -- event.updated (webhook_events_updated, migration 014).
                        updated_at = case
                            when (l.name, l.capacity, l.sales_opens_at, l.sales_closes_at, l.max_tickets_per_user, l.hold_seconds)
                                 is distinct from (e.name, e.capacity, e.sales_opens_at, e.sales_closes_at, e.max_tickets_per_user, e.hold_seconds)
                            then now() else e.updated_at end
                    from locked l
                    where e.id = l.id
                      and l.capacity >= e.held + e.confirmed
                    returning e.id, e.capacity, l.old_capacity
                ), followed as (
                    update ticket_types t
                    set capacity = u.capacity, available = t.available + u.capacity - t.capacity, updated_at = now()
                    from updated u
                    where t.event_id = u.id
                      and t.capacity = u.old_capacity
                      and u.capacity <> u.old_capacity
                      and (select count(*) from ticket_types o where o.event_id = u.id) = 1
                )
                select count(*)::int from updated
                """;
            try
            {
                var updated = await connection.ExecuteScalarAsync<int>(new CommandDefinition(sql, new
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
                if (updated == 1)
                {
                    const string readSql = $"""
                        with picked as (select {EventColumns} from events where id = @Id)
                        {EventsWithTypesSql}
                        """;
                    var read = await ReadAsync(connection, new CommandDefinition(readSql, new { Id = id }, cancellationToken: ct));
                    return new EventUpdateResult(EventUpdateOutcome.Updated, read[0]);
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
