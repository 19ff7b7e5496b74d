// What the docs page says around Scalar's rendering of the OpenAPI document: the walk-through a newcomer follows
// with try-it-out, and every problem `code` with its meaning (each row is the target of a problem's `type` link,
// /api/docs#problem-{code}). The rest of the page is generated from the document.
using System.Collections.Frozen;
using System.Net;
using Scalar.AspNetCore;

namespace Tickets.Api;

public static class DocsIntro
{
    /// <summary>Name of the document's security scheme the page authorizes with.</summary>
    public const string BearerScheme = "bearer";

    /// <summary>Status and meaning of every problem code.</summary>
    public static readonly FrozenDictionary<string, (int Status, string Meaning)> ProblemCodeMeanings = new Dictionary<string, (int, string)>
    {
        [ProblemCodes.InvalidRequest] = (400, "A field is missing, out of range, or of the wrong kind; the detail says which."),
        [ProblemCodes.InvalidJson] = (400, "The body is not valid JSON, has a wrong type, or has an unknown or server-owned field (e.g. status, userId)."),
        [ProblemCodes.UnsupportedMediaType] = (415, "Send application/json (the token endpoint also takes a form)."),
        [ProblemCodes.BodyTooLarge] = (413, "Request bodies are limited to 16 KiB."),
        [ProblemCodes.Unauthorized] = (401, "No bearer token, or an invalid, tampered or expired one."),
        [ProblemCodes.Forbidden] = (403, "The operation needs the admin role."),
        [ProblemCodes.NotFound] = (404, "No reservation with this id is yours (others' ids answer the same)."),
        [ProblemCodes.MethodNotAllowed] = (405, "The route exists but not for this method."),
        [ProblemCodes.EventNotFound] = (404, "No event has this id."),
        [ProblemCodes.EmailTaken] = (409, "The email is already registered."),
        [ProblemCodes.WeakPassword] = (400, "The password is a commonly used one, a repeated character, a sequence or keyboard run, or the email address. Length alone is not enough; choose a phrase of your own."),
        [ProblemCodes.HumanCheckFailed] = (403, "Guest tokens need a passed human check (when the operator turned it on): send the widget's response in the Human-Check header."),
        [ProblemCodes.HumanCheckUnavailable] = (503, "The human check could not be verified; wait for Retry-After seconds."),
        [ProblemCodes.RequestTimeout] = (408, "The request body arrived too slowly; send it again."),
        [ProblemCodes.InvalidCredentials] = (401, "Wrong email or password."),
        [ProblemCodes.InvalidQuantity] = (400, "Each line's quantity, and all lines together, must be 1 to 100."),
        [ProblemCodes.TicketTypeNotFound] = (404, "The event has no ticket type with this id (a hold's refusal names the line: line, ticketTypeId)."),
        [ProblemCodes.TicketTypeNotOnSale] = (409, "A line's ticket type is paused; the whole hold is refused."),
        [ProblemCodes.TicketTypeRequired] = (400, "A bare quantity on an event with several ticket types: send items."),
        [ProblemCodes.TooManyTicketTypes] = (409, "The event already has as many ticket types as allowed; pause one instead."),
        [ProblemCodes.SoldOut] = (409, "Not enough seats are available for this quantity (of the line's ticket type, when the refusal names a line)."),
        [ProblemCodes.LimitExceeded] = (409, "Active holds plus confirmed tickets would exceed the event's or the line's ticket type's per-user limit, or you would hold too many reservations or seats at once across all events."),
        [ProblemCodes.SalesNotOpen] = (409, "The event's (or the line's ticket type's) sales window has not opened yet."),
        [ProblemCodes.SalesClosed] = (409, "The event's (or the line's ticket type's) sales window has closed."),
        [ProblemCodes.WrongState] = (409, "The reservation is not in a state that allows this (e.g. confirming a released hold)."),
        [ProblemCodes.HoldExpired] = (410, "The hold expired before it was confirmed; its seats are back on sale."),
        [ProblemCodes.CapacityBelowCommitted] = (409, "Capacity cannot go below held + confirmed seats."),
        [ProblemCodes.IdempotencyKeyReused] = (422, "This Idempotency-Key was used with a different request."),
        [ProblemCodes.IdempotencyKeyInUse] = (409, "A request with this Idempotency-Key is still being processed; retry shortly."),
        [ProblemCodes.TooManyRequests] = (429, "Rate limit reached, or sign-ins to this account from here are delayed after failures; wait for Retry-After seconds."),
        [ProblemCodes.Overloaded] = (503, "The hold queue for this event is full; wait for Retry-After seconds."),
        [ProblemCodes.DatabaseUnavailable] = (503, "The database is unreachable; wait for Retry-After seconds."),
        [ProblemCodes.WebhookNotFound] = (404, "No webhook subscription has this id."),
        [ProblemCodes.WebhookMessageNotFound] = (404, "The subscription has no message with this id (re-send)."),
        [ProblemCodes.WebhookUrlInvalid] = (400, "The url is not an absolute http(s) URL of at most 2000 characters, or carries user information or a fragment."),
        [ProblemCodes.WebhookUrlNotHttps] = (400, "Webhook targets must use https; plain http only with the development setting Webhooks__AllowHttp."),
        [ProblemCodes.WebhookTargetUnresolvable] = (400, "The url's host name does not resolve."),
        [ProblemCodes.WebhookTargetRefused] = (400, "The url's host resolves to a loopback, private, link-local or metadata address; webhooks never go there (checked again on every delivery)."),
        [ProblemCodes.WebhookEventUnknown] = (400, "events lists a message type that does not exist; the detail lists those that do."),
        [ProblemCodes.WebhooksNotConfigured] = (503, "Webhooks are off on this deployment: Webhooks__SecretKey is not set."),
        [ProblemCodes.InternalError] = (500, "An unexpected error; it was logged with the trace id."),
    }.ToFrozenDictionary();

    /// <summary>Scalar's settings: the document by URL, bearer auth, nothing from other origins (fonts, telemetry, agents).</summary>
    public static void Configure(ScalarOptions options)
    {
        options.Title = "Tickets API";
        options.OpenApiRoutePattern = $"/{ApiRoutes.Prefix}/{ApiRoutes.OpenApi}";
        options.DefaultFonts = false;
        options.Telemetry = false;
        options.Agent = new ScalarAgentOptions { Disabled = true };
        options.Mcp = new ScalarMcpOptions { Disabled = true };
        options.ShowDeveloperTools = DeveloperToolsVisibility.Never;
        options.DynamicNonce = true;
        options.Authentication = new ScalarAuthenticationOptions { PreferredSecuritySchemes = [BearerScheme] };
        options.HeaderContent = Html.Value;
        options.CustomCss = Css;
    }

    private const string Css = """
        #walk-through { font-family: var(--scalar-font); color: var(--scalar-color-1); background: var(--scalar-background-2);
          padding: 1rem 2rem; border-bottom: 1px solid var(--scalar-border-color); font-size: 14px; line-height: 1.6; }
        #walk-through h1 { font-size: 1.4rem; margin: 0 0 .4rem; }
        #walk-through ol { margin: .4rem 0; padding-left: 1.4rem; list-style: decimal; }
        #walk-through code { font-family: var(--scalar-font-code); font-size: 12.5px; }
        #walk-through summary { cursor: pointer; margin-top: .4rem; }
        #walk-through table { border-collapse: collapse; margin: .5rem 0; }
        #walk-through td, #walk-through th { border-bottom: 1px solid var(--scalar-border-color); padding: .2rem .6rem; text-align: left; vertical-align: top; }
        #walk-through tr:target { background: var(--scalar-color-yellow); }
        """;

    private static readonly Lazy<string> Html = new(() =>
    {
        var rows = string.Concat(ProblemCodeMeanings.OrderBy(p => p.Value.Status).ThenBy(p => p.Key, StringComparer.Ordinal).Select(p =>
            $"<tr id=\"problem-{p.Key}\"><td><code>{p.Key}</code></td><td>{p.Value.Status}</td><td>{WebUtility.HtmlEncode(p.Value.Meaning)}</td></tr>"));
        return $$"""
            <header id="walk-through">
              <h1>Tickets API</h1>
              <p>Hold seats for a few minutes, confirm them, or let the hold expire and the seats go back on sale. Try it
                 here: every operation below has a <em>Test Request</em> button that calls this server.</p>
              <ol>
                <li><b>Get a token.</b> <code>POST /api/auth/guest</code> (no body) answers <code>201</code> with an
                    <code>accessToken</code>; accounts use <code>POST /api/auth/register</code> then <code>POST /api/auth/token</code>.</li>
                <li><b>Authorize.</b> Paste the token into the <em>Bearer Token</em> field of the authentication section; every
                    test request then sends <code>Authorization: Bearer &lt;token&gt;</code>.</li>
                <li><b>Find an event.</b> <code>GET /api/events</code> lists them (an admin creates them with <code>POST /api/events</code>).</li>
                <li><b>Hold seats.</b> <code>POST /api/reservations/hold</code> with <code>{"eventId": "…", "quantity": 2}</code>
                    answers <code>201</code> with the reservation and its <code>expiresAt</code>.</li>
                <li><b>Confirm.</b> <code>POST /api/reservations/{id}/confirm</code> before the hold expires, or release it with
                    <code>DELETE /api/reservations/{id}</code>. <code>GET /api/events/{id}</code> shows the counters move
                    (<code>available</code>, <code>held</code>, <code>confirmed</code>).</li>
              </ol>
              <details id="problem-codes">
                <summary>Problem codes: every error is <code>application/problem+json</code> (RFC 9457) with a stable <code>code</code></summary>
                <table>
                  <thead><tr><th>code</th><th>status</th><th>meaning</th></tr></thead>
                  <tbody>{{rows}}</tbody>
                </table>
              </details>
            </header>
            """;
    });
}
