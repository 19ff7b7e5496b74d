// Request and response bodies of /api/webhooks, and the message types a subscription may ask for. The attributes
// describe the contract in the OpenAPI document (ApiDocument); WebhookEndpoints checks the same rules.
using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Tickets.Data;

namespace Tickets.Api;

public static class WebhookEventTypes
{
    public const string ReservationHeld = "reservation.held";
    public const string ReservationConfirmed = "reservation.confirmed";
    public const string ReservationExpired = "reservation.expired";
    public const string ReservationReleased = "reservation.released";
    public const string ReservationCancelled = "reservation.cancelled";
    public const string EventSoldOut = "event.sold_out";
    public const string EventUpdated = "event.updated";

    /// <summary>Every type the triggers of migration 006 emit (a test pins the two lists together).</summary>
    public static readonly IReadOnlyList<string> All =
    [
        ReservationHeld, ReservationConfirmed, ReservationExpired, ReservationReleased, ReservationCancelled, EventSoldOut, EventUpdated,
    ];
}

[RequestBody]
public sealed record CreateWebhookRequest(
    [property: Required, Url, MaxLength(WebhookTargets.MaxUrlLength), Description("https, resolving to public addresses only.")] string? Url,
    [property: Required, MinLength(1), MaxLength(WebhookEndpoints.MaxEvents), AllowedValues(WebhookEventTypes.ReservationHeld, WebhookEventTypes.ReservationConfirmed, WebhookEventTypes.ReservationExpired, WebhookEventTypes.ReservationReleased, WebhookEventTypes.ReservationCancelled, WebhookEventTypes.EventSoldOut, WebhookEventTypes.EventUpdated)] string[]? Events,
    [property: MaxLength(WebhookEndpoints.MaxDescriptionLength)] string? Description);

/// <summary>
/// The body of PATCH /api/webhooks/{id} (JSON merge-patch). Documented only: the handler reads the JSON itself
/// (WebhookEndpoints.UpdateAsync), because an absent field and a null one mean different things.
/// </summary>
[RequestBody]
public sealed record WebhookChangesRequest(
    [property: Url, MaxLength(WebhookTargets.MaxUrlLength), Description("https, resolving to public addresses only.")] string Url,
    [property: MinLength(1), MaxLength(WebhookEndpoints.MaxEvents), AllowedValues(WebhookEventTypes.ReservationHeld, WebhookEventTypes.ReservationConfirmed, WebhookEventTypes.ReservationExpired, WebhookEventTypes.ReservationReleased, WebhookEventTypes.ReservationCancelled, WebhookEventTypes.EventSoldOut, WebhookEventTypes.EventUpdated)] string[] Events,
    [property: Description("true re-enables a disabled subscription and clears its disabledReason.")] bool Enabled,
    [property: MaxLength(WebhookEndpoints.MaxDescriptionLength), Description("null clears it.")] string? Description);

public sealed record WebhookResponse(
    Guid Id,
    [property: Url] string Url,
    [property: AllowedValues(WebhookEventTypes.ReservationHeld, WebhookEventTypes.ReservationConfirmed, WebhookEventTypes.ReservationExpired, WebhookEventTypes.ReservationReleased, WebhookEventTypes.ReservationCancelled, WebhookEventTypes.EventSoldOut, WebhookEventTypes.EventUpdated)] IReadOnlyList<string> Events,
    string? Description,
    bool Enabled,
    string? DisabledReason,
    DateTime? FailingSince,
    DateTime? PreviousSecretExpiresAt,
    DateTime CreatedAt,
    DateTime UpdatedAt)
{
    public static WebhookResponse From(WebhookSubscription s) => new(s.Id, s.Url, s.Events, s.Description, s.Enabled, s.DisabledReason,
        s.FailingSince, s.PreviousSecret is null ? null : s.PreviousSecretExpiresAt, s.CreatedAt, s.UpdatedAt);
}

/// <summary>The answer to creating a subscription or rotating its secret: the only time the secret is shown.</summary>
public sealed record WebhookWithSecretResponse(
    Guid Id,
    [property: Url] string Url,
    [property: AllowedValues(WebhookEventTypes.ReservationHeld, WebhookEventTypes.ReservationConfirmed, WebhookEventTypes.ReservationExpired, WebhookEventTypes.ReservationReleased, WebhookEventTypes.ReservationCancelled, WebhookEventTypes.EventSoldOut, WebhookEventTypes.EventUpdated)] IReadOnlyList<string> Events,
    string? Description,
    bool Enabled,
    string? DisabledReason,
    DateTime? FailingSince,
    DateTime? PreviousSecretExpiresAt,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    [property: Description("The signing secret (whsec_ and base64), shown only in this answer.")] string Secret)
{
    public static WebhookWithSecretResponse From(WebhookSubscription s, string secret)
    {
        var w = WebhookResponse.From(s);
        return new(w.Id, w.Url, w.Events, w.Description, w.Enabled, w.DisabledReason, w.FailingSince, w.PreviousSecretExpiresAt, w.CreatedAt,
            w.UpdatedAt, secret);
    }
}

public sealed record WebhookAttemptResponse(
    long Id,
    Guid MessageId,
    [property: AllowedValues(WebhookEventTypes.ReservationHeld, WebhookEventTypes.ReservationConfirmed, WebhookEventTypes.ReservationExpired, WebhookEventTypes.ReservationReleased, WebhookEventTypes.ReservationCancelled, WebhookEventTypes.EventSoldOut, WebhookEventTypes.EventUpdated)] string Type,
    [property: Range(1, int.MaxValue)] int Attempt,
    DateTime StartedAt,
    [property: Range(0, int.MaxValue)] int DurationMs,
    [property: AllowedValues("delivered", "failed", "dead")] string Outcome,
    int? StatusCode,
    string? Error,
    string? ResponseBody,
    [property: AllowedValues("pending", "delivered", "dead")] string MessageStatus)
{
    public static WebhookAttemptResponse From(WebhookAttempt a) =>
        new(a.Id, a.MessageId, a.Type, a.Attempt, a.StartedAt, a.DurationMs, a.Outcome, a.StatusCode, a.Error, a.ResponseBody, a.MessageStatus);
}

/// <summary>A page of attempts, newest first; pass <c>before</c> to read older ones.</summary>
public sealed record WebhookAttemptPage(IReadOnlyList<WebhookAttemptResponse> Items, [property: Description("Pass as ?before= for the next (older) page; null on the last.")] long? Before);

public sealed record WebhookResendResponse(Guid MessageId, [property: AllowedValues("pending")] string Status);
