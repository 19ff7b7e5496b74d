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
    [property: Range(Limits.MinHoldSeconds, Limits.MaxHoldSeconds), DefaultValue(Limits.DefaultHoldSeconds)] int? HoldSeconds);

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
    DateTime UpdatedAt)
{
    public static EventResponse From(Event e) => new(e.Id, e.Name, e.Capacity, e.Available, e.Held, e.Confirmed,
        e.SalesOpensAt, e.SalesClosesAt, e.MaxTicketsPerUser, e.HoldSeconds, e.CreatedAt, e.UpdatedAt);
}

[RequestBody]
public sealed record HoldRequestBody(
    [property: Required, Description("The event's id (a UUID).")] string? EventId,
    [property: Required, Range(1, Limits.MaxQuantityPerHold)] int? Quantity);

public sealed record ReservationResponse(
    Guid Id,
    Guid EventId,
    int Quantity,
    [property: AllowedValues(ReservationStatus.Hold, ReservationStatus.Confirmed, ReservationStatus.Expired, ReservationStatus.Released, ReservationStatus.Cancelled)]
    string Status,
    DateTime CreatedAt,
    DateTime ExpiresAt,
    DateTime? ConfirmedAt,
    DateTime? EndedAt)
{
    public static ReservationResponse From(Reservation r) =>
        new(r.Id, r.EventId, r.Quantity, r.Status, r.CreatedAt, r.ExpiresAt, r.ConfirmedAt, r.EndedAt);
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
