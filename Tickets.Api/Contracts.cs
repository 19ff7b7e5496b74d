// Request and response bodies of the HTTP contract (JSON, camelCase). Requests carry nullable members so that
// a missing field is reported as such rather than silently defaulted.
using Tickets.Data;

namespace Tickets.Api;

public sealed record CredentialsRequest(string? Email, string? Password);

public sealed record UserResponse(Guid Id, string? Email, string Role);

public sealed record CreateEventRequest(
    string? Name,
    int? Capacity,
    DateTimeOffset? SalesOpensAt,
    DateTimeOffset? SalesClosesAt,
    int? MaxTicketsPerUser,
    int? HoldSeconds,
    string? Currency = null,
    IReadOnlyList<TicketTypeRequest>? TicketTypes = null);

/// <summary>A ticket type to create: price in integer minor units of the event's currency, capacity its quota.</summary>
public sealed record TicketTypeRequest(
    string? Name,
    int? Price,
    int? Capacity,
    DateTimeOffset? SalesOpensAt = null,
    DateTimeOffset? SalesClosesAt = null,
    int? MaxTicketsPerUser = null,
    int? SortOrder = null,
    string? State = null);

public sealed record TicketTypeResponse(
    Guid Id,
    string Name,
    int Price,
    int Capacity,
    int Available,
    int Held,
    int Confirmed,
    DateTime? SalesOpensAt,
    DateTime? SalesClosesAt,
    int? MaxTicketsPerUser,
    int SortOrder,
    string State)
{
    public static TicketTypeResponse From(TicketType t) => new(t.Id, t.Name, t.Price, t.Capacity, t.Available, t.Held, t.Confirmed,
        t.SalesOpensAt, t.SalesClosesAt, t.MaxTicketsPerUser, t.SortOrder, t.State);
}

public sealed record EventResponse(
    Guid Id,
    string Name,
    int Capacity,
    int Available,
    int Held,
    int Confirmed,
    DateTime? SalesOpensAt,
    DateTime? SalesClosesAt,
    int? MaxTicketsPerUser,
    int HoldSeconds,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    string Currency,
    ValueList<TicketTypeResponse> TicketTypes)
{
    public static EventResponse From(Event e) => new(e.Id, e.Name, e.Capacity, e.Available, e.Held, e.Confirmed,
        e.SalesOpensAt, e.SalesClosesAt, e.MaxTicketsPerUser, e.HoldSeconds, e.CreatedAt, e.UpdatedAt, e.Currency,
        e.TicketTypes.Select(TicketTypeResponse.From).ToArray());
}

/// <summary>A hold: <c>items</c> (one per ticket type), or <c>quantity</c> alone on an event with one type.</summary>
public sealed record HoldRequestBody(string? EventId, int? Quantity, IReadOnlyList<HoldItemBody?>? Items = null);

public sealed record HoldItemBody(string? TicketTypeId, int? Quantity);

public sealed record ReservationLineResponse(Guid TicketTypeId, int Quantity, int UnitPrice);

public sealed record ReservationResponse(
    Guid Id,
    Guid EventId,
    int Quantity,
    string Status,
    DateTime CreatedAt,
    DateTime ExpiresAt,
    DateTime? ConfirmedAt,
    DateTime? EndedAt,
    ValueList<ReservationLineResponse> Lines,
    long Total,
    string Currency)
{
    public static ReservationResponse From(Reservation r) =>
        new(r.Id, r.EventId, r.Quantity, r.Status, r.CreatedAt, r.ExpiresAt, r.ConfirmedAt, r.EndedAt,
            r.Lines.Select(l => new ReservationLineResponse(l.TicketTypeId, l.Quantity, l.UnitPrice)).ToArray(), r.Total, r.Currency);
}

public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor);

public sealed record HealthResponse(string Status, string Database);

/// <summary>Opaque keyset cursors: clients pass back what they were given.</summary>
public static class Cursor
{
    public static string Encode(Guid id) => Convert.ToBase64String(id.ToByteArray()).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static bool TryDecode(string? cursor, out Guid? id)
    {
        id = null;
        if (string.IsNullOrEmpty(cursor))
        {
            return true;
        }
        if (cursor.Length != 22)
        {
            return false;
        }
        Span<byte> bytes = stackalloc byte[16];
        var base64 = cursor.Replace('-', '+').Replace('_', '/') + "==";
        if (!Convert.TryFromBase64String(base64, bytes, out var written) || written != 16)
        {
            return false;
        }
        id = new Guid(bytes);
        return true;
    }
}
