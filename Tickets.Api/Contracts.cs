// Request and response bodies of the HTTP contract (JSON, camelCase). Requests carry nullable members so that
// a missing field is reported as such rather than silently defaulted.
using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Tickets.Data;

namespace Tickets.Api;

// The attributes describe the contract in the OpenAPI document (ApiDocument); the handlers check the same rules.

[RequestBody]
public sealed record CredentialsRequest(
    [property: Required, MaxLength(EmailAddress.MaxLength)] string? Email,
    [property: Required, MinLength(PasswordPolicy.MinLength), MaxLength(PasswordPolicy.MaxLength)] string? Password);

/// <summary>The OAuth2 password-grant form POST /api/auth/token also reads (documented only; read by hand).</summary>
[RequestBody]
public sealed record PasswordGrantForm(
    [property: Required, MaxLength(EmailAddress.MaxLength)] string Username,
    [property: Required, MaxLength(PasswordPolicy.MaxLength)] string Password);

public sealed record UserResponse(Guid Id, string? Email, [property: AllowedValues(Roles.User, Roles.Guest, Roles.Admin)] string Role);

[RequestBody]
public sealed record CreateEventRequest(
    [property: Required, MinLength(1), MaxLength(Limits.MaxEventNameLength)] string? Name,
    [property: Required, Range(1, Limits.MaxCapacity)] int? Capacity,
    DateTimeOffset? SalesOpensAt,
    DateTimeOffset? SalesClosesAt,
    [property: Range(1, Limits.MaxCapacity)] int? MaxTicketsPerUser,
    [property: Range(Limits.MinHoldSeconds, Limits.MaxHoldSeconds), DefaultValue(Limits.DefaultHoldSeconds)] int? HoldSeconds,
    [property: RegularExpression("^[A-Z]{3}$"), DefaultValue(Limits.DefaultCurrency), Description("ISO 4217 code of the prices.")] string? Currency = null,
    [property: MinLength(1), MaxLength(Limits.MaxTicketTypesPerEvent),
        Description("The event's ticket types; without them the event gets one type of its capacity, price 0.")]
    IReadOnlyList<TicketTypeRequest>? TicketTypes = null);

/// <summary>A ticket type to create: price in integer minor units of the event's currency, capacity its quota.</summary>
[RequestBody]
public sealed record TicketTypeRequest(
    [property: Required, MinLength(1), MaxLength(Limits.MaxEventNameLength)] string? Name,
    [property: Required, Range(0, Limits.MaxPrice), Description("Integer minor units of the event's currency.")] int? Price,
    [property: Required, Range(1, Limits.MaxCapacity)] int? Capacity,
    DateTimeOffset? SalesOpensAt = null,
    DateTimeOffset? SalesClosesAt = null,
    [property: Range(1, Limits.MaxCapacity)] int? MaxTicketsPerUser = null,
    int? SortOrder = null,
    [property: AllowedValues(TicketTypeState.OnSale, TicketTypeState.Paused), DefaultValue(TicketTypeState.OnSale)] string? State = null);

/// <summary>
/// The body of PATCH /api/events/{id}/ticket-types/{typeId} (JSON merge-patch). Documented only: the handler reads
/// the JSON itself (TicketTypeEndpoints.TryReadChanges), because an absent field and a null one mean different things.
/// </summary>
[RequestBody]
public sealed record TicketTypeChangesRequest(
    [property: MinLength(1), MaxLength(Limits.MaxEventNameLength)] string Name,
    [property: Range(0, Limits.MaxPrice), Description("Applies to later holds; held and sold seats keep their price.")] int Price,
    [property: Range(1, Limits.MaxCapacity), Description("Never below held + confirmed seats of the type.")] int Capacity,
    [property: Description("null clears it.")] DateTimeOffset? SalesOpensAt,
    [property: Description("null clears it.")] DateTimeOffset? SalesClosesAt,
    [property: Range(1, Limits.MaxCapacity), Description("null clears it.")] int? MaxTicketsPerUser,
    int SortOrder,
    [property: AllowedValues(TicketTypeState.OnSale, TicketTypeState.Paused), Description("PAUSED sells nothing; reservations stay.")] string State);

[Description("available + held + confirmed = capacity, always.")]
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
    [property: AllowedValues(TicketTypeState.OnSale, TicketTypeState.Paused)] string State)
{
    public static TicketTypeResponse From(TicketType t) => new(t.Id, t.Name, t.Price, t.Capacity, t.Available, t.Held, t.Confirmed,
        t.SalesOpensAt, t.SalesClosesAt, t.MaxTicketsPerUser, t.SortOrder, t.State);
}

/// <summary>
/// The body of PATCH /api/events/{id} (JSON merge-patch). Documented only: the handler reads the JSON itself
/// (EventEndpoints.TryReadChanges), because an absent field and a null one mean different things.
/// </summary>
[RequestBody]
public sealed record EventChangesRequest(
    [property: MinLength(1), MaxLength(Limits.MaxEventNameLength)] string Name,
    [property: Range(1, Limits.MaxCapacity), Description("Never below held + confirmed seats.")] int Capacity,
    [property: Description("null clears it.")] DateTimeOffset? SalesOpensAt,
    [property: Description("null clears it.")] DateTimeOffset? SalesClosesAt,
    [property: Range(1, Limits.MaxCapacity), Description("null clears it.")] int? MaxTicketsPerUser,
    [property: Range(Limits.MinHoldSeconds, Limits.MaxHoldSeconds)] int HoldSeconds);

[Description("available + held + confirmed = capacity, always.")]
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
[RequestBody]
[Description("Either items (one line per ticket type) or quantity alone (on an event with one ticket type), not both.")]
public sealed record HoldRequestBody(
    [property: Required, Description("The event's id (a UUID).")] string? EventId,
    [property: Range(1, Limits.MaxQuantityPerHold), Description("Seats of the event's only ticket type; leave out when sending items.")] int? Quantity,
    [property: MinLength(1), MaxLength(Limits.MaxLinesPerHold),
        Description("One line per ticket type, each type once; all lines together at most the quantity limit. A refused line is named by the problem's line and ticketTypeId.")]
    IReadOnlyList<HoldItemBody?>? Items = null);

[RequestBody]
public sealed record HoldItemBody(
    [property: Required, Description("A ticket type of the event (a UUID).")] string? TicketTypeId,
    [property: Required, Range(1, Limits.MaxQuantityPerHold)] int? Quantity);

public sealed record ReservationLineResponse(Guid TicketTypeId, int Quantity, [property: Description("Minor units, as at the hold.")] int UnitPrice);

public sealed record ReservationResponse(
    Guid Id,
    Guid EventId,
    int Quantity,
    [property: AllowedValues(ReservationStatus.Hold, ReservationStatus.Confirmed, ReservationStatus.Expired, ReservationStatus.Released, ReservationStatus.Cancelled)]
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
