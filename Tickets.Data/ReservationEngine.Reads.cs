using Dapper;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Tickets.Data;

// Reads of reservations.
public sealed partial class ReservationEngine
{
    /// <summary>
    /// A reservation with its lines and its event's currency: one row per line, in type id order, the
    /// reservation's columns repeated; <see cref="ReadReservationsAsync"/> folds them back. The reservations to
    /// read come from a <c>picked (id)</c> CTE the statement starts with.
    /// </summary>
    private const string ReservationWithLinesSql = """
        select r.id, r.event_id, r.user_id, r.quantity, r.status, r.created_at, r.expires_at, r.confirmed_at, r.ended_at,
               e.currency, l.ticket_type_id, l.quantity as line_quantity, l.unit_price
        from picked p
        join reservations r on r.id = p.id
        join events e on e.id = r.event_id
        left join reservation_lines l on l.reservation_id = r.id
        order by r.id desc, l.ticket_type_id
        """;

    public Task<Reservation?> GetAsync(Guid reservationId, Guid? ownerId, CancellationToken cancellationToken) =>
        database.WithConnectionAsync(async (connection, ct) =>
        {
            const string sql = $"""
                with picked as (
                    select id from reservations where id = @Id and (@OwnerId::uuid is null or user_id = @OwnerId::uuid)
                )
                {ReservationWithLinesSql}
                """;
            var found = await ReadReservationsAsync(connection, new CommandDefinition(sql, new { Id = reservationId, OwnerId = ownerId }, cancellationToken: ct));
            return found.Count == 0 ? null : found[0];
        }, cancellationToken);

    /// <summary>A user's reservations, newest first, keyset-paginated by id.</summary>
    public Task<IReadOnlyList<Reservation>> ListForUserAsync(Guid userId, Guid? before, int limit, CancellationToken cancellationToken) =>
        database.WithConnectionAsync<IReadOnlyList<Reservation>>(async (connection, ct) =>
        {
            const string sql = $"""
                with picked as (
                    select id
                    from reservations
                    where user_id = @UserId and (@Before::uuid is null or id < @Before::uuid)
                    order by id desc
                    limit @Limit
                )
                {ReservationWithLinesSql}
                """;
            return await ReadReservationsAsync(connection, new CommandDefinition(sql, new { UserId = userId, Before = before, Limit = limit }, cancellationToken: ct));
        }, cancellationToken);

    /// <summary>Runs a <see cref="ReservationWithLinesSql"/> statement and folds its rows into reservations, in row order.</summary>
    private static async Task<List<Reservation>> ReadReservationsAsync(NpgsqlConnection connection, CommandDefinition command)
    {
        var rows = await connection.QueryAsync<ReservationLineRow>(command);
        var reservations = new List<Reservation>();
        var lines = new List<ReservationLine>();
        ReservationLineRow? last = null;
        foreach (var row in rows)
        {
            if (last is not null && last.Id != row.Id)
            {
                reservations.Add(last.ToReservation(lines));
                lines = [];
            }
            if (row.TicketTypeId is { } typeId)
            {
                lines.Add(new ReservationLine(typeId, row.LineQuantity!.Value, row.UnitPrice!.Value));
            }
            last = row;
        }
        if (last is not null)
        {
            reservations.Add(last.ToReservation(lines));
        }
        return reservations;
    }

    private sealed record ReservationLineRow
    {
        public Guid Id { get; init; }
        public Guid EventId { get; init; }
        public Guid UserId { get; init; }
        public int Quantity { get; init; }
        public string Status { get; init; } = "";
        public DateTime CreatedAt { get; init; }
        public DateTime ExpiresAt { get; init; }
        public DateTime? ConfirmedAt { get; init; }
        public DateTime? EndedAt { get; init; }
        public string Currency { get; init; } = "";
        public Guid? TicketTypeId { get; init; }
        public int? LineQuantity { get; init; }
        public int? UnitPrice { get; init; }

        public Reservation ToReservation(List<ReservationLine> lines) => new()
        {
            Id = Id,
            EventId = EventId,
            UserId = UserId,
            Quantity = Quantity,
            Status = Status,
            CreatedAt = CreatedAt,
            ExpiresAt = ExpiresAt,
            ConfirmedAt = ConfirmedAt,
            EndedAt = EndedAt,
            Currency = Currency,
            Lines = lines,
        };
    }
}
