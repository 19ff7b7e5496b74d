// Every error the API returns: RFC 9457 problem details with a stable machine-readable "code".
// Expected failures arrive here as values; ForException maps the unexpected ones (and an unreachable database).
using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;
using Tickets.Data;

namespace Tickets.Api;

public static class ProblemCodes
{
    public const string InvalidRequest = "invalid_request";
    public const string InvalidJson = "invalid_json";
    public const string UnsupportedMediaType = "unsupported_media_type";
    public const string BodyTooLarge = "body_too_large";
    public const string Unauthorized = "unauthorized";
    public const string Forbidden = "forbidden";
    public const string NotFound = "not_found";
    public const string MethodNotAllowed = "method_not_allowed";
    public const string EventNotFound = "event_not_found";
    public const string EmailTaken = "email_taken";
    public const string WeakPassword = "weak_password";
    public const string HumanCheckFailed = "human_check_failed";
    public const string HumanCheckUnavailable = "human_check_unavailable";
    public const string RequestTimeout = "request_timeout";
    public const string InvalidCredentials = "invalid_credentials";
    public const string InvalidQuantity = "invalid_quantity";
    public const string TicketTypeNotFound = "ticket_type_not_found";
    public const string TicketTypeNotOnSale = "ticket_type_not_on_sale";
    public const string TicketTypeRequired = "ticket_type_required";
    public const string TooManyTicketTypes = "too_many_ticket_types";
    public const string SoldOut = "sold_out";
    public const string LimitExceeded = "limit_exceeded";
    public const string SalesNotOpen = "sales_not_open";
    public const string SalesClosed = "sales_closed";
    public const string WrongState = "wrong_state";
    public const string HoldExpired = "hold_expired";
    public const string CapacityBelowCommitted = "capacity_below_committed";
    public const string IdempotencyKeyReused = "idempotency_key_reused";
    public const string IdempotencyKeyInUse = "idempotency_key_in_use";
    public const string TooManyRequests = "too_many_requests";
    public const string Overloaded = "overloaded";
    public const string DatabaseUnavailable = "database_unavailable";
    public const string WebhookNotFound = "webhook_not_found";
    public const string WebhookMessageNotFound = "webhook_message_not_found";
    public const string WebhookUrlInvalid = "webhook_url_invalid";
    public const string WebhookUrlNotHttps = "webhook_url_not_https";
    public const string WebhookTargetUnresolvable = "webhook_target_unresolvable";
    public const string WebhookTargetRefused = "webhook_target_refused";
    public const string WebhookEventUnknown = "webhook_event_unknown";
    public const string WebhooksNotConfigured = "webhooks_not_configured";
    public const string InternalError = "internal_error";
}

public static class Problems
{
    /// <summary>Seconds a client should wait before retrying after a 503.</summary>
    public const int RetryAfterSeconds = 2;

    public static ProblemHttpResult Create(int status, string code, string title, string detail,
        IEnumerable<KeyValuePair<string, object?>>? extensions = null)
    {
        var problem = new ProblemDetails
        {
            // A relative reference to the documentation of the code (RFC 9457 allows relative type URIs).
            Type = $"/{ApiRoutes.Prefix}/{ApiRoutes.Docs}#problem-{code}",
            Title = title,
            Status = status,
            Detail = detail,
            Extensions = { ["code"] = code, ["traceId"] = Activity.Current?.Id },
        };
        foreach (var (name, value) in extensions ?? [])
        {
            problem.Extensions[name] = value;
        }
        return TypedResults.Problem(problem);
    }

    public static ProblemHttpResult BadRequest(string detail, string code = ProblemCodes.InvalidRequest) =>
        Create(StatusCodes.Status400BadRequest, code, "The request is invalid.", detail);

    public static ProblemHttpResult NotFound(string detail, string code = ProblemCodes.NotFound) =>
        Create(StatusCodes.Status404NotFound, code, "Not found.", detail);

    public static ProblemHttpResult Conflict(string code, string title, string detail,
        IEnumerable<KeyValuePair<string, object?>>? extensions = null) =>
        Create(StatusCodes.Status409Conflict, code, title, detail, extensions);

    public static IResult Unauthorized(string detail) => new WithHeader(
        Create(StatusCodes.Status401Unauthorized, ProblemCodes.Unauthorized, "Authentication is required.", detail),
        "WWW-Authenticate", "Bearer");

    public static ProblemHttpResult Forbidden(string detail) =>
        Create(StatusCodes.Status403Forbidden, ProblemCodes.Forbidden, "Not allowed.", detail);

    public static IResult Unavailable(string code, string detail, int retryAfterSeconds = RetryAfterSeconds)
    {
        TicketsMetrics.Unavailable.Add(1, new KeyValuePair<string, object?>("code", code));
        return new WithHeader(Create(StatusCodes.Status503ServiceUnavailable, code, "The service is temporarily unavailable.", detail),
            "Retry-After", retryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    public static IResult TooManyRequests(string detail, int retryAfterSeconds) => new WithHeader(
        Create(StatusCodes.Status429TooManyRequests, ProblemCodes.TooManyRequests, "Too many requests.", detail),
        "Retry-After", retryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>The answer for an exception that escaped a handler; both hosts route theirs here.</summary>
    public static IResult ForException(Exception exception, ILogger logger)
    {
        if (exception is DatabaseUnavailableException)
        {
            logger.LogWarning(exception, "Database unavailable; answering 503");
            return Unavailable(ProblemCodes.DatabaseUnavailable, "The database is unreachable. Retry shortly.");
        }
        if (exception is BadHttpRequestException bad)
        {
            // Raised by the web server while the app reads the body. Its messages name server settings
            // (MinRequestBodyDataRate, MaxRequestBodySize), so the answer says what happened in the API's words.
            return bad.StatusCode switch
            {
                StatusCodes.Status413PayloadTooLarge => Create(StatusCodes.Status413PayloadTooLarge, ProblemCodes.BodyTooLarge,
                    "The request body is too large.", $"Request bodies are limited to {ApiJson.MaxBodyBytes} bytes."),
                StatusCodes.Status408RequestTimeout => Create(StatusCodes.Status408RequestTimeout, ProblemCodes.RequestTimeout,
                    "The request body arrived too slowly.", "The body was sent too slowly and the request was abandoned. Send it again."),
                _ => BadRequest("The request is malformed (framing, encoding or length)."),
            };
        }
        logger.LogError(exception, "Unhandled exception");
        return Create(StatusCodes.Status500InternalServerError, ProblemCodes.InternalError, "An unexpected error occurred.",
            "The error was logged. Retry later or contact support with the trace id.");
    }

    /// <summary>Adds one response header to a result (Retry-After, WWW-Authenticate).</summary>
    private sealed class WithHeader(IResult inner, string name, string value) : IResult, IStatusCodeHttpResult
    {
        public int? StatusCode => (inner as IStatusCodeHttpResult)?.StatusCode;

        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers[name] = value;
            return inner.ExecuteAsync(httpContext);
        }
    }
}
