// The one declaration of the HTTP API: per operation its route, method, name, summary, who may call it, its rate
// limit, request and response types and every problem code it can answer with. From it Tickets.Server maps the
// endpoints (ApiEndpoints.MapApi), both hosts authenticate and rate-limit (ApiGate), the OpenAPI document is
// generated (ApiDocument), and a test checks the Functions app's built functions.metadata against it (the
// [HttpTrigger] attributes use the route constants below).
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Tickets.Data;

namespace Tickets.Api;

/// <summary>Who may call an operation.</summary>
public enum Access
{
    /// <summary>No token needed.</summary>
    Anyone,
    /// <summary>Any signed-in user or guest (a bearer token).</summary>
    Caller,
    /// <summary>A signed-in user or guest, on their own resources only: others' ids answer 404, never 403.</summary>
    Owner,
    /// <summary>An account whose role is admin now (read from the database on every request, not from the token).</summary>
    Admin,
}

/// <summary>The rate limit an operation counts against (AbuseLimits), checked right after authentication.</summary>
public enum RateLimit
{
    None,
    /// <summary>Sign-in and registration requests per client address.</summary>
    Auth,
    /// <summary>Write requests per user.</summary>
    Writes,
    /// <summary>Write requests per user, then holds per client address.</summary>
    Holds,
}

/// <summary>A problem response: its status, what it means here, and the codes it carries.</summary>
public sealed record ProblemResponse(int Status, string Description, params string[] Codes);

/// <summary>A query, header or (other than {id}) path parameter, documented only: the handler reads and checks it.</summary>
public sealed record ApiParameter(string Name, ParameterIn In, string Description, Type Type)
{
    public int? MaxLength { get; init; }
    public int? Minimum { get; init; }
    public int? Maximum { get; init; }
    public int? Default { get; init; }
}

public enum ParameterIn { Query, Header, Path }

/// <summary>One operation of the API. <see cref="Handle"/> runs after <see cref="ApiGate"/> admitted the request.</summary>
public sealed record ApiRoute(string Name, string Method, string Template, string Summary, Access Access, Func<ApiCall, Task<IResult>> Handle)
{
    public string? Description { get; init; }
    /// <summary>False for a route that serves the API but is not an operation of it (the docs page's own files).</summary>
    public bool Documented { get; init; } = true;
    public RateLimit Limit { get; init; }
    /// <summary>False for the few operations that answer without the database (no 503 database_unavailable).</summary>
    public bool UsesDatabase { get; init; } = true;
    /// <summary>The JSON request body, if any (then 400 invalid_json, 413 and 415 are possible answers).</summary>
    public Type? Body { get; init; }
    /// <summary>An alternative application/x-www-form-urlencoded body.</summary>
    public Type? Form { get; init; }
    /// <summary>An example request body, serialized as the API reads it.</summary>
    public object? Example { get; init; }
    public int Status { get; init; } = StatusCodes.Status200OK;
    public Type? Response { get; init; }
    public string ResponseContentType { get; init; } = "application/json";
    public string ResponseDescription { get; init; } = "OK";
    public IReadOnlyList<ApiParameter> Parameters { get; init; } = [];
    /// <summary>The problems this operation's own logic answers with; the common ones follow from the rest.</summary>
    public IReadOnlyList<ProblemResponse> Problems { get; init; } = [];

    /// <summary>Every problem response, this operation's own and those of its access, limit, body and database, by status.</summary>
    public IReadOnlyList<ProblemResponse> AllProblems()
    {
        var all = new List<ProblemResponse>(Problems);
        if (Body is not null)
        {
            all.Add(new(400, "The body is not valid JSON of the expected shape", ProblemCodes.InvalidJson));
            all.Add(new(413, $"The body is over {ApiJson.MaxBodyBytes} bytes", ProblemCodes.BodyTooLarge));
            all.Add(new(415, "The body is not JSON", ProblemCodes.UnsupportedMediaType));
            all.Add(new(408, "The body arrived too slowly", ProblemCodes.RequestTimeout));
        }
        if (Access != Access.Anyone)
        {
            all.Add(new(401, "Missing, invalid or expired bearer token (WWW-Authenticate: Bearer)", ProblemCodes.Unauthorized));
        }
        if (Access == Access.Admin)
        {
            all.Add(new(403, "The account is not an admin", ProblemCodes.Forbidden));
        }
        if (Limit != RateLimit.None)
        {
            all.Add(new(429, "Rate limited (Retry-After)", ProblemCodes.TooManyRequests));
        }
        if (UsesDatabase)
        {
            all.Add(new(503, "The database is unreachable (Retry-After)", ProblemCodes.DatabaseUnavailable));
        }
        return all.GroupBy(p => p.Status)
            .Select(g => new ProblemResponse(g.Key, string.Join("; ", g.Select(p => p.Description).Distinct()),
                g.SelectMany(p => p.Codes).Distinct().ToArray()))
            .OrderBy(p => p.Status).ToList();
    }
}

public static class ApiRoutes
{
    /// <summary>Every route lives under this prefix (the Functions host's default routePrefix).</summary>
    public const string Prefix = "api";

    public const string Register = "auth/register";
    public const string Token = "auth/token";
    public const string Guest = "auth/guest";
    public const string Events = "events";
    public const string Event = "events/{id}";
    public const string TicketTypes = "events/{id}/ticket-types";
    public const string TicketType = "events/{id}/ticket-types/{typeId}";
    public const string Hold = "reservations/hold";
    public const string Reservations = "reservations";
    public const string Reservation = "reservations/{id}";
    public const string Confirm = "reservations/{id}/confirm";
    public const string Cancel = "reservations/{id}/cancel";
    public const string Webhooks = "webhooks";
    public const string Webhook = "webhooks/{id}";
    public const string WebhookRotateSecret = "webhooks/{id}/rotate-secret";
    public const string WebhookDeliveries = "webhooks/{id}/deliveries";
    public const string WebhookResend = "webhooks/{id}/messages/{messageId}/resend";
    public const string Health = "health";
    public const string Live = "health/live";
    public const string OpenApi = "openapi.json";
    public const string Docs = "docs";
    /// <summary>The docs page's own files (Scalar's scripts and icon); not an API operation, so not in the document.</summary>
    public const string DocsFile = "docs/{file}";

    /// <summary>NCRONTAB (with seconds) of the expired-hold sweeper: every minute, on the minute.</summary>
    public const string ReleaseExpiredHoldsSchedule = "0 */1 * * * *";

    /// <summary>NCRONTAB (with seconds) of the Functions app's webhook delivery: every 10 seconds (the server loops instead).</summary>
    public const string DeliverWebhooksSchedule = "*/10 * * * * *";

    private static readonly ApiParameter[] Paging =
    [
        new("limit", ParameterIn.Query, "Page size.", typeof(int)) { Minimum = 1, Maximum = EventEndpoints.MaxPageSize, Default = EventEndpoints.DefaultPageSize },
        new("cursor", ParameterIn.Query, "nextCursor of the previous page, passed back as given.", typeof(string)),
    ];

    private static readonly ApiParameter IdempotencyKey = new(IdempotencyHeader.Name, ParameterIn.Header,
        "Makes a retry safe: the first response for this key is stored for 24 hours and sent again (with Idempotent-Replayed: true).",
        typeof(string)) { MaxLength = IdempotencyHeader.MaxLength };

    private static readonly ProblemResponse BadPage = new(400, "Bad limit or cursor", ProblemCodes.InvalidRequest);

    private static readonly ProblemResponse NoWebhook = new(404, "No such subscription", ProblemCodes.WebhookNotFound);

    private static readonly ProblemResponse BadWebhook = new(400, "Invalid field, url or message type; a url that is not https or not public",
        ProblemCodes.InvalidRequest, ProblemCodes.WebhookUrlInvalid, ProblemCodes.WebhookUrlNotHttps, ProblemCodes.WebhookTargetUnresolvable,
        ProblemCodes.WebhookTargetRefused, ProblemCodes.WebhookEventUnknown);

    private static readonly ProblemResponse WebhooksOff = new(503, "Webhooks are off on this deployment: no secret key is set (Retry-After)",
        ProblemCodes.WebhooksNotConfigured);

    public static readonly IReadOnlyList<ApiRoute> All =
    [
        new("Register", "POST", Register, "Create a user account", Access.Anyone, c => AuthOf(c).RegisterAsync(c))
        {
            Limit = RateLimit.Auth, Body = typeof(CredentialsRequest), Example = new { email = "ada@example.com", password = "a long phrase of my own" },
            Status = 201, Response = typeof(UserResponse), ResponseDescription = "Created",
            Problems =
            [
                new(400, "Invalid email or password length; weak_password: a common or guessable password", ProblemCodes.InvalidRequest, ProblemCodes.WeakPassword),
                new(409, "The email is already registered", ProblemCodes.EmailTaken),
            ],
        },
        new("Token", "POST", Token, "Sign in (JSON {email,password} or an OAuth2 password-grant form)", Access.Anyone, c => AuthOf(c).TokenAsync(c))
        {
            Limit = RateLimit.Auth, Body = typeof(CredentialsRequest), Form = typeof(PasswordGrantForm),
            Example = new { email = "ada@example.com", password = "a long phrase of my own" },
            Response = typeof(IssuedToken), ResponseDescription = "Signed in",
            Problems =
            [
                new(400, "Email (or username) and password are required", ProblemCodes.InvalidRequest),
                new(401, "Wrong email or password", ProblemCodes.InvalidCredentials),
                new(413, $"The form is over {ApiJson.MaxBodyBytes} bytes", ProblemCodes.BodyTooLarge),
                new(415, "Multipart bodies are refused", ProblemCodes.UnsupportedMediaType),
                new(429, "Sign-ins to this account from here are delayed after failures (Retry-After)", ProblemCodes.TooManyRequests),
            ],
        },
        new("Guest", "POST", Guest, "Get a token for an anonymous buyer (after a human check, when one is configured)", Access.Anyone, c => AuthOf(c).GuestAsync(c))
        {
            Limit = RateLimit.Auth, Status = 201, Response = typeof(IssuedToken), ResponseDescription = "Guest token",
            Parameters = [new(HumanCheck.Header, ParameterIn.Header, "The human-check token, when the check is on.", typeof(string)) { MaxLength = 4096 }],
            Problems =
            [
                new(403, "The human check is on and was not passed", ProblemCodes.HumanCheckFailed),
                new(503, "The human-check provider did not answer (Retry-After)", ProblemCodes.HumanCheckUnavailable),
            ],
        },
        new("CreateEvent", "POST", Events, "Create an event (admin)", Access.Admin, c => EventsOf(c).CreateAsync(c))
        {
            Limit = RateLimit.Writes, Body = typeof(CreateEventRequest),
            Example = new { name = "Concert", capacity = 500, salesOpensAt = "2026-12-01T10:00:00Z", holdSeconds = 300 },
            Status = 201, Response = typeof(EventResponse), ResponseDescription = "Created; the Location header points at it",
            Problems = [new(400, "Invalid name, capacity, sales window, limit, hold duration, currency or ticket types", ProblemCodes.InvalidRequest)],
        },
        new("ListEvents", "GET", Events, "List events", Access.Anyone, c => EventsOf(c).ListAsync(c))
        {
            Parameters = Paging, Response = typeof(Page<EventResponse>), ResponseDescription = "A page of events",
            Problems = [BadPage],
        },
        new("GetEvent", "GET", Event, "Read an event with its live seat counters", Access.Anyone, c => EventsOf(c).GetAsync(c))
        {
            Response = typeof(EventResponse), ResponseDescription = "The event",
            Problems = [new(404, "No such event", ProblemCodes.EventNotFound)],
        },
        new("UpdateEvent", "PATCH", Event, "Change an event (admin)", Access.Admin, c => EventsOf(c).UpdateAsync(c))
        {
            Description = "JSON merge-patch: an absent field stays as it is, null clears an optional one.",
            Limit = RateLimit.Writes, Body = typeof(EventChangesRequest), Example = new { capacity = 800, salesClosesAt = (string?)null },
            Response = typeof(EventResponse), ResponseDescription = "Updated",
            Problems =
            [
                new(400, "Invalid or unknown field", ProblemCodes.InvalidRequest),
                new(404, "No such event", ProblemCodes.EventNotFound),
                new(409, "Capacity below held + confirmed seats", ProblemCodes.CapacityBelowCommitted),
            ],
        },
        new("CreateTicketType", "POST", TicketTypes, "Add a ticket type to an event (admin)", Access.Admin, c => TicketTypesOf(c).CreateAsync(c))
        {
            Limit = RateLimit.Writes, Body = typeof(TicketTypeRequest), Example = new { name = "Balcony", price = 4500, capacity = 120, maxTicketsPerUser = 4 },
            Status = 201, Response = typeof(TicketTypeResponse), ResponseDescription = "Created; the Location header points at it",
            Problems =
            [
                new(400, "Invalid name, price, capacity, sales window, limit or state", ProblemCodes.InvalidRequest),
                new(404, "No such event", ProblemCodes.EventNotFound),
                new(409, $"The event already has {Limits.MaxTicketTypesPerEvent} ticket types", ProblemCodes.TooManyTicketTypes),
            ],
        },
        new("ListTicketTypes", "GET", TicketTypes, "An event's ticket types with their live seat counters", Access.Anyone, c => TicketTypesOf(c).ListAsync(c))
        {
            Response = typeof(List<TicketTypeResponse>), ResponseDescription = "The event's ticket types",
            Problems = [new(404, "No such event", ProblemCodes.EventNotFound)],
        },
        new("GetTicketType", "GET", TicketType, "Read a ticket type with its live seat counters", Access.Anyone, c => TicketTypesOf(c).GetAsync(c))
        {
            Response = typeof(TicketTypeResponse), ResponseDescription = "The ticket type",
            Problems = [new(404, "No such event, or it has no ticket type with this id", ProblemCodes.TicketTypeNotFound)],
        },
        new("UpdateTicketType", "PATCH", TicketType, "Change a ticket type (admin)", Access.Admin, c => TicketTypesOf(c).UpdateAsync(c))
        {
            Description = "JSON merge-patch: an absent field stays as it is, null clears an optional one. Types are never deleted: pause one instead.",
            Limit = RateLimit.Writes, Body = typeof(TicketTypeChangesRequest), Example = new { capacity = 150, state = TicketTypeState.Paused },
            Response = typeof(TicketTypeResponse), ResponseDescription = "Updated",
            Problems =
            [
                new(400, "Invalid or unknown field, or a sales window that closes before it opens", ProblemCodes.InvalidRequest),
                new(404, "No such event, or it has no ticket type with this id", ProblemCodes.TicketTypeNotFound),
                new(409, "Capacity below the type's held + confirmed seats", ProblemCodes.CapacityBelowCommitted),
            ],
        },
        new("Hold", "POST", Hold, "Hold seats for the event's hold duration", Access.Caller, c => ReservationsOf(c).HoldAsync(c))
        {
            Description = "Send items (one line per ticket type) or, on an event with one ticket type, quantity alone. " +
                "All lines are held or none; a refusal about one line names it (the problem's line and ticketTypeId).",
            Limit = RateLimit.Holds, Body = typeof(HoldRequestBody),
            Example = new { eventId = "0b8e9f3c-54a1-4f0e-9c1e-2f1d5a7b6c01", quantity = 2 },
            Parameters = [IdempotencyKey],
            Status = 201, Response = typeof(ReservationResponse), ResponseDescription = "Held; the Location header points at the reservation",
            Problems =
            [
                new(400, "eventId and either quantity or items are required, quantities in range, each type once, a well-formed Idempotency-Key; " +
                    "ticket_type_required: a bare quantity on an event with several ticket types",
                    ProblemCodes.InvalidRequest, ProblemCodes.InvalidQuantity, ProblemCodes.TicketTypeRequired),
                new(401, "The account behind the token no longer exists", ProblemCodes.Unauthorized),
                new(404, "No such event, or a line's ticket type is not one of the event's", ProblemCodes.EventNotFound, ProblemCodes.TicketTypeNotFound),
                new(409, "Not enough seats (of a line's type), a per-user limit (the event's or a line's type's), outside the sales window (the event's or a line's type's), " +
                    "a line's type paused, or the same Idempotency-Key still running",
                    ProblemCodes.SoldOut, ProblemCodes.LimitExceeded, ProblemCodes.SalesNotOpen, ProblemCodes.SalesClosed, ProblemCodes.TicketTypeNotOnSale,
                    ProblemCodes.IdempotencyKeyInUse),
                new(422, "The Idempotency-Key was used for a different request", ProblemCodes.IdempotencyKeyReused),
                new(503, "Too many holds waiting for this event (Retry-After)", ProblemCodes.Overloaded),
            ],
        },
        new("ListReservations", "GET", Reservations, "Your reservations, newest first", Access.Owner, c => ReservationsOf(c).ListAsync(c))
        {
            Parameters = Paging, Response = typeof(Page<ReservationResponse>), ResponseDescription = "A page of your reservations",
            Problems = [BadPage],
        },
        new("GetReservation", "GET", Reservation, "One of your reservations (an admin reads anyone's)", Access.Owner, c => ReservationsOf(c).GetAsync(c))
        {
            Response = typeof(ReservationResponse), ResponseDescription = "The reservation",
            Problems = [new(404, "Not yours, or no such reservation", ProblemCodes.NotFound)],
        },
        new("Release", "DELETE", Reservation, "Give a hold back early", Access.Owner, c => ReservationsOf(c).ReleaseAsync(c))
        {
            Limit = RateLimit.Writes, Status = 204, ResponseDescription = "Released (also when already released)",
            Problems =
            [
                new(404, "Not yours, or no such reservation", ProblemCodes.NotFound),
                new(409, "Not a live hold", ProblemCodes.WrongState),
                new(410, "The hold already expired", ProblemCodes.HoldExpired),
                new(503, "Too many requests waiting (Retry-After)", ProblemCodes.Overloaded),
            ],
        },
        new("Confirm", "POST", Confirm, "Confirm your hold (repeating it returns the same 200)", Access.Owner, c => ReservationsOf(c).ConfirmAsync(c))
        {
            Limit = RateLimit.Writes, Parameters = [IdempotencyKey], Response = typeof(ReservationResponse), ResponseDescription = "Confirmed",
            Problems =
            [
                new(400, "A malformed Idempotency-Key", ProblemCodes.InvalidRequest),
                new(404, "Not yours, or no such reservation", ProblemCodes.NotFound),
                new(409, "Released or cancelled, or the same Idempotency-Key still running", ProblemCodes.WrongState, ProblemCodes.IdempotencyKeyInUse),
                new(410, "The hold expired; its seats are back on sale", ProblemCodes.HoldExpired),
                new(422, "The Idempotency-Key was used for a different request", ProblemCodes.IdempotencyKeyReused),
                new(503, "Too many requests waiting (Retry-After)", ProblemCodes.Overloaded),
            ],
        },
        new("Cancel", "POST", Cancel, "Cancel a confirmed reservation (admin); its seats return", Access.Admin, c => ReservationsOf(c).CancelAsync(c))
        {
            Limit = RateLimit.Writes, Response = typeof(ReservationResponse), ResponseDescription = "Cancelled",
            Problems =
            [
                new(404, "No such reservation", ProblemCodes.NotFound),
                new(409, "Not confirmed", ProblemCodes.WrongState),
            ],
        },
        new("CreateWebhook", "POST", Webhooks, "Subscribe an HTTPS endpoint to message types (admin); the answer shows the signing secret once", Access.Admin,
            c => WebhooksOf(c).CreateAsync(c))
        {
            Limit = RateLimit.Writes, Body = typeof(CreateWebhookRequest),
            Example = new { url = "https://hooks.example.com/tickets", events = new[] { WebhookEventTypes.ReservationConfirmed }, description = "Box office" },
            Status = 201, Response = typeof(WebhookWithSecretResponse), ResponseDescription = "Created; the Location header points at it",
            Problems = [BadWebhook, WebhooksOff],
        },
        new("ListWebhooks", "GET", Webhooks, "List webhook subscriptions (admin)", Access.Admin, c => WebhooksOf(c).ListAsync(c))
        {
            Parameters = Paging, Response = typeof(Page<WebhookResponse>), ResponseDescription = "A page of subscriptions",
            Problems = [BadPage, WebhooksOff],
        },
        new("GetWebhook", "GET", Webhook, "Read a webhook subscription (admin)", Access.Admin, c => WebhooksOf(c).GetAsync(c))
        {
            Response = typeof(WebhookResponse), ResponseDescription = "The subscription",
            Problems = [NoWebhook, WebhooksOff],
        },
        new("UpdateWebhook", "PATCH", Webhook, "Change a webhook subscription, or disable or re-enable it (admin)", Access.Admin, c => WebhooksOf(c).UpdateAsync(c))
        {
            Description = "JSON merge-patch: an absent field stays as it is, null clears the description. Enabling clears disabledReason.",
            Limit = RateLimit.Writes, Body = typeof(WebhookChangesRequest), Example = new { enabled = true },
            Response = typeof(WebhookResponse), ResponseDescription = "Updated",
            Problems = [BadWebhook, NoWebhook, WebhooksOff],
        },
        new("DeleteWebhook", "DELETE", Webhook, "Delete a webhook subscription and its undelivered messages (admin)", Access.Admin, c => WebhooksOf(c).DeleteAsync(c))
        {
            Limit = RateLimit.Writes, Status = 204, ResponseDescription = "Deleted",
            Problems = [NoWebhook, WebhooksOff],
        },
        new("RotateWebhookSecret", "POST", WebhookRotateSecret, "Give a subscription a new signing secret (admin); the previous one keeps signing beside it for a grace period",
            Access.Admin, c => WebhooksOf(c).RotateSecretAsync(c))
        {
            Limit = RateLimit.Writes, Response = typeof(WebhookWithSecretResponse), ResponseDescription = "Rotated; the new secret is shown once",
            Problems = [NoWebhook, WebhooksOff],
        },
        new("ListWebhookDeliveries", "GET", WebhookDeliveries, "A subscription's delivery attempts, newest first (admin)", Access.Admin, c => WebhooksOf(c).DeliveriesAsync(c))
        {
            Parameters =
            [
                Paging[0],
                new("before", ParameterIn.Query, "before of the previous page, passed back as given.", typeof(long)) { Minimum = 1 },
            ],
            Response = typeof(WebhookAttemptPage), ResponseDescription = "A page of delivery attempts",
            Problems = [new(400, "Bad limit or before", ProblemCodes.InvalidRequest), NoWebhook, WebhooksOff],
        },
        new("ResendWebhookMessage", "POST", WebhookResend, "Send a message again now: a dead letter, a delivered one, or one waiting to retry (admin)", Access.Admin,
            c => WebhooksOf(c).ResendAsync(c))
        {
            Limit = RateLimit.Writes, Status = 202, Response = typeof(WebhookResendResponse), ResponseDescription = "Accepted; delivery follows",
            Parameters = [new("messageId", ParameterIn.Path, "The message's id (webhook-id of its deliveries); any other value answers 404.", typeof(Guid))],
            Problems =
            [
                new(404, "No such subscription, or it has no such message", ProblemCodes.WebhookNotFound, ProblemCodes.WebhookMessageNotFound),
                WebhooksOff,
            ],
        },
        new("Health", "GET", Health, "Is the database reachable?", Access.Anyone, c => HealthOf(c).HealthAsync(c.Http))
        {
            Response = typeof(HealthResponse), ResponseDescription = "Healthy",
        },
        new("Live", "GET", Live, "Is the process up? (no database call)", Access.Anyone, c => Task.FromResult(HealthEndpoints.Live()))
        {
            UsesDatabase = false, Response = typeof(HealthResponse), ResponseDescription = "Up",
        },
        new("OpenApi", "GET", OpenApi, "This document (OpenAPI 3.1)", Access.Anyone, c => ApiDocument.ServeAsync())
        {
            UsesDatabase = false, ResponseDescription = "The OpenAPI document",
        },
        new("Docs", "GET", Docs, "A page rendering this document (works offline)", Access.Anyone, c => Task.FromResult(DocsEndpoints.Page(c.Http)))
        {
            UsesDatabase = false, ResponseContentType = "text/html", ResponseDescription = "HTML",
        },
        new("DocsFile", "GET", DocsFile, "A file of the docs page (its scripts and icon)", Access.Anyone,
            c => Task.FromResult(DocsEndpoints.File(c.Http, c.Http.Request.RouteValues["file"] as string ?? "")))
        {
            UsesDatabase = false, Documented = false, ResponseContentType = "text/javascript", ResponseDescription = "The file",
        },
    ];

    /// <summary>The operations by name (the Functions worker's function names).</summary>
    public static readonly IReadOnlyDictionary<string, ApiRoute> ByName = All.ToDictionary(r => r.Name, StringComparer.Ordinal);

    /// <summary>The methods a route answers: a GET route answers HEAD too (RFC 9110 §9.3.2), without a body.</summary>
    public static IReadOnlyList<string> MethodsOf(ApiRoute route) => route.Method == "GET" ? ["GET", "HEAD"] : [route.Method];

    private static AuthEndpoints AuthOf(ApiCall c) => c.Http.RequestServices.GetRequiredService<AuthEndpoints>();
    private static TicketTypeEndpoints TicketTypesOf(ApiCall c) => c.Http.RequestServices.GetRequiredService<TicketTypeEndpoints>();
    private static EventEndpoints EventsOf(ApiCall c) => c.Http.RequestServices.GetRequiredService<EventEndpoints>();
    private static ReservationEndpoints ReservationsOf(ApiCall c) => c.Http.RequestServices.GetRequiredService<ReservationEndpoints>();
    private static WebhookEndpoints WebhooksOf(ApiCall c) => c.Http.RequestServices.GetRequiredService<WebhookEndpoints>();
    private static HealthEndpoints HealthOf(ApiCall c) => c.Http.RequestServices.GetRequiredService<HealthEndpoints>();
}
