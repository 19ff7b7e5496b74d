using Dapper;
using Npgsql;

namespace Tickets.Data;

/// <summary>A ticket type to create: price in minor units of the event's currency, capacity its quota.</summary>
public sealed record NewTicketType(
    string Name,
    int Price,
    int Capacity,
    DateTime? SalesOpensAt = null,
    DateTime? SalesClosesAt = null,
    int? MaxTicketsPerUser = null,
    int? SortOrder = null,
    string State = TicketTypeState.OnSale);

/// <summary>A partial update of a type (see <see cref="SaleChanges"/>).</summary>
public sealed record TicketTypeChanges : SaleChanges
{
    public int? Price { get; init; }
    public int? SortOrder { get; init; }
    public string? State { get; init; }
}

/// <summary>
/// Ticket types of an event: added after the event, and changed. A type's counters are written by the
/// reservation engine under the event's row lock; the writers here take that lock too, so a quota change never
/// races a hold. Types are never deleted (a paused type sells nothing and keeps its reservations).
/// </summary>
public sealed class TicketTypeStore(Database database)
{
    /// <summary>The columns of <see cref="TicketType"/> from a <c>ticket_types t</c>.</summary>
    internal const string TypeColumnsOfT = """
        t.id, t.event_id, t.name, t.price, t.capacity, t.available, t.held, t.confirmed, t.sales_opens_at, t.sales_closes_at,
        t.max_tickets_per_user, t.sort_order, t.state, t.created_at, t.updated_at
        """;

    /// <summary>Inserts the types of <see cref="InsertParameters"/> for the event <c>@Id</c>.</summary>
    internal const string InsertTypesSql = """
        insert into ticket_types (id, event_id, name, price, capacity, available, sales_opens_at, sales_closes_at, max_tickets_per_user, sort_order, state)
        select t.id, @Id, t.name, t.price, t.capacity, t.capacity, t.opens, t.closes, t.max, t.sort_order, t.state
        from unnest(@TypeIds, @TypeNames, @TypePrices, @TypeCapacities, @TypeOpens::timestamptz[], @TypeCloses::timestamptz[],
                    @TypeMaxes::integer[], @TypeOrders, @TypeStates)
            as t (id, name, price, capacity, opens, closes, max, sort_order, state)
        """;

    internal static DynamicParameters InsertParameters(Guid eventId, IReadOnlyList<NewTicketType> types)
    {
        var parameters = new DynamicParameters();
        parameters.AddDynamicParams(new
        {
            Id = eventId,
            TypeIds = types.Select(_ => Guid.CreateVersion7()).ToArray(),
            TypeNames = types.Select(t => t.Name).ToArray(),
            TypePrices = types.Select(t => t.Price).ToArray(),
            TypeCapacities = types.Select(t => t.Capacity).ToArray(),
            TypeOpens = types.Select(t => t.SalesOpensAt).ToArray(),
            TypeCloses = types.Select(t => t.SalesClosesAt).ToArray(),
            TypeMaxes = types.Select(t => t.MaxTicketsPerUser).ToArray(),
            TypeOrders = types.Select((t, i) => t.SortOrder ?? i).ToArray(),
            TypeStates = types.Select(t => t.State).ToArray(),
        });
        return parameters;
    }

    /// <summary>Adds a type to an event, after the ones it has unless an order is given.</summary>
    public Task<TicketTypeResult> CreateAsync(Guid eventId, NewTicketType type, CancellationToken cancellationToken) =>
        database.InOneRoundTripAsync(async (connection, ct) =>
        {
            const string sql = $"""
                with ev as (
                    select id from events where id = @EventId for no key update
                ), counted as (
                    select count(*)::int as types, coalesce(max(sort_order) + 1, 0) as next_order
                    from ticket_types
                    where event_id = @EventId
                ), inserted as (
                    insert into ticket_types (id, event_id, name, price, capacity, available, sales_opens_at, sales_closes_at, max_tickets_per_user, sort_order, state)
                    select @Id, ev.id, @Name, @Price, @Capacity, @Capacity, @SalesOpensAt, @SalesClosesAt, @MaxTicketsPerUser,
                           coalesce(@SortOrder, c.next_order), @State
                    from ev
                    cross join counted c
                    where c.types < @MaxTypes
                    returning *
                ), touched as (
                    -- The event as the API shows it lists its types: it changed (event.updated, migration 014).
                    update events e set updated_at = now()
                    from inserted i
                    where e.id = i.event_id
                )
                select {TypeColumnsOfT}
                from inserted t
                """;
            try
            {
                var created = await connection.QuerySingleOrDefaultAsync<TicketType>(new CommandDefinition(sql, new
                {
                    EventId = eventId,
                    Id = Guid.CreateVersion7(),
                    type.Name,
                    type.Price,
                    type.Capacity,
                    type.SalesOpensAt,
                    type.SalesClosesAt,
                    type.MaxTicketsPerUser,
                    type.SortOrder,
                    type.State,
                    MaxTypes = Limits.MaxTicketTypesPerEvent,
                }, cancellationToken: ct));
                if (created is not null)
                {
                    return new TicketTypeResult(TicketTypeOutcome.Done, created);
                }
                const string existsSql = "select exists (select 1 from events where id = @EventId)";
                var found = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(existsSql, new { EventId = eventId }, cancellationToken: ct));
                return new TicketTypeResult(found ? TicketTypeOutcome.TooManyTypes : TicketTypeOutcome.EventNotFound);
            }
            catch (PostgresException ex) when (ex.ConstraintName == "ticket_types_sales_window")
            {
                return new TicketTypeResult(TicketTypeOutcome.InvalidSalesWindow);
            }
        }, cancellationToken);

    /// <summary>
    /// Applies <paramref name="changes"/> under the event's row lock. A quota moves <c>available</c> by the same
    /// amount and may never go below the type's held + confirmed seats. A new price applies to later holds only.
    /// </summary>
    public Task<TicketTypeResult> UpdateAsync(Guid eventId, Guid typeId, TicketTypeChanges changes, CancellationToken cancellationToken) =>
        // Applying the same changes again gives the same row: retried like a read.
        database.WithConnectionAsync(async (connection, ct) =>
        {
            const string sql = $"""
                with ev as (
                    select id from events where id = @EventId for no key update
                ), changed as (
                    -- The type under the event's lock (every writer of a type takes it): as it is (o), as it becomes (n).
                    select o.id, n.*,
                           (n.name, n.price, n.capacity, n.sales_opens_at, n.sales_closes_at, n.max_tickets_per_user, n.sort_order, n.state)
                           is distinct from (o.name, o.price, o.capacity, o.sales_opens_at, o.sales_closes_at, o.max_tickets_per_user, o.sort_order, o.state)
                           as moved
                    from ev
                    join ticket_types o on o.id = @TypeId and o.event_id = ev.id
                    cross join lateral (
                        select coalesce(@Name, o.name) as name,
                               coalesce(@Price, o.price) as price,
                               coalesce(@Capacity, o.capacity) as capacity,
                               case when @ClearSalesOpensAt then null else coalesce(@SalesOpensAt, o.sales_opens_at) end as sales_opens_at,
                               case when @ClearSalesClosesAt then null else coalesce(@SalesClosesAt, o.sales_closes_at) end as sales_closes_at,
                               case when @ClearMaxTicketsPerUser then null else coalesce(@MaxTicketsPerUser, o.max_tickets_per_user) end as max_tickets_per_user,
                               coalesce(@SortOrder, o.sort_order) as sort_order,
                               coalesce(@State, o.state) as state
                    ) n
                    for no key update of o
                ), updated as (
                    update ticket_types t set
                        name = c.name,
                        price = c.price,
                        capacity = c.capacity,
                        available = t.available + c.capacity - t.capacity,
                        sales_opens_at = c.sales_opens_at,
                        sales_closes_at = c.sales_closes_at,
                        max_tickets_per_user = c.max_tickets_per_user,
                        sort_order = c.sort_order,
                        state = c.state,
                        updated_at = now()
                    from changed c
                    where t.id = c.id
                      and c.capacity >= t.held + t.confirmed
                    returning t.*, c.moved
                ), touched as (
                    -- The event as the API shows it lists its types: a change of one is an event.updated (migration 014).
                    -- The same changes applied again change nothing and send nothing.
                    update events e set updated_at = now()
                    from updated u
                    where e.id = u.event_id and u.moved
                )
                select {TypeColumnsOfT}
                from updated t
                """;
            try
            {
                var updated = await connection.QuerySingleOrDefaultAsync<TicketType>(new CommandDefinition(sql, new
                {
                    EventId = eventId,
                    TypeId = typeId,
                    changes.Name,
                    changes.Price,
                    changes.Capacity,
                    changes.SalesOpensAt,
                    changes.ClearSalesOpensAt,
                    changes.SalesClosesAt,
                    changes.ClearSalesClosesAt,
                    changes.MaxTicketsPerUser,
                    changes.ClearMaxTicketsPerUser,
                    changes.SortOrder,
                    changes.State,
                }, cancellationToken: ct));
                if (updated is not null)
                {
                    return new TicketTypeResult(TicketTypeOutcome.Done, updated);
                }
            }
            catch (PostgresException ex) when (ex.ConstraintName == "ticket_types_sales_window")
            {
                return new TicketTypeResult(TicketTypeOutcome.InvalidSalesWindow);
            }
            const string existsSql = "select exists (select 1 from ticket_types where id = @TypeId and event_id = @EventId)";
            var exists = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(existsSql, new { EventId = eventId, TypeId = typeId }, cancellationToken: ct));
            return new TicketTypeResult(exists ? TicketTypeOutcome.CapacityBelowCommitted : TicketTypeOutcome.NotFound);
        }, cancellationToken);
}
