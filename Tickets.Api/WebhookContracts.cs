// Request and response bodies of /api/webhooks, and the message types a subscription may ask for.
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

public sealed record CreateWebhookRequest(string? Url, string[]? Events, string? Description);

public sealed record WebhookResponse(
    Guid Id,
    string Url,
    IReadOnlyList<string> Events,
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
    string Url,
    IReadOnlyList<string> Events,
    string? Description,
    bool Enabled,
    string? DisabledReason,
    DateTime? FailingSince,
    DateTime? PreviousSecretExpiresAt,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    string Secret)
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
    string Type,
    int Attempt,
    DateTime StartedAt,
    int DurationMs,
    string Outcome,
    int? StatusCode,
    string? Error,
    string? ResponseBody,
    string MessageStatus)
{
    public static WebhookAttemptResponse From(WebhookAttempt a) =>
        new(a.Id, a.MessageId, a.Type, a.Attempt, a.StartedAt, a.DurationMs, a.Outcome, a.StatusCode, a.Error, a.ResponseBody, a.MessageStatus);
}

/// <summary>A page of attempts, newest first; pass <c>before</c> to read older ones.</summary>
public sealed record WebhookAttemptPage(IReadOnlyList<WebhookAttemptResponse> Items, long? Before);

public sealed record WebhookResendResponse(Guid MessageId, string Status);
