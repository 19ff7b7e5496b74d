// /api/webhooks (admin): subscriptions, their delivery attempts, re-sending a message and rotating the secret.
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Tickets.Data;

namespace Tickets.Api;

public sealed class WebhookEndpoints(
    WebhookStore store, WebhookSecrets secrets, WebhookTargets targets, IOptions<WebhookOptions> options, ILogger<WebhookEndpoints> logger)
{
    public const int MaxDescriptionLength = 500;
    public const int MaxEvents = 50;

    public async Task<IResult> CreateAsync(ApiCall call)
    {
        if (NotConfigured() is { } off)
        {
            return off;
        }
        var context = call.Http;
        var (body, problem) = await ApiJson.ReadAsync<CreateWebhookRequest>(context.Request, context.RequestAborted);
        if (problem is not null)
        {
            return problem;
        }
        if ((ValidateEvents(body!.Events) ?? ValidateDescription(body.Description)) is { } invalid)
        {
            return invalid;
        }
        var (url, urlProblem) = await CheckUrlAsync(body.Url, context.RequestAborted);
        if (urlProblem is not null)
        {
            return urlProblem;
        }
        var id = Guid.CreateVersion7();
        var secret = WebhookSecrets.NewSecret();
        var created = await store.CreateAsync(id, url!, Distinct(body.Events!), body.Description, secrets.Seal(id, secret), context.RequestAborted);
        logger.LogInformation("Created webhook subscription {SubscriptionId} for {Events}", created.Id, created.Events);
        return TypedResults.Created($"/{ApiRoutes.Prefix}/webhooks/{created.Id}", WebhookWithSecretResponse.From(created, secret));
    }

    public async Task<IResult> ListAsync(ApiCall call)
    {
        if (NotConfigured() is { } off)
        {
            return off;
        }
        var context = call.Http;
        if (!EventEndpoints.TryReadPage(context.Request, out var limit, out var after, out var problem))
        {
            return problem!;
        }
        var page = await store.ListAsync(after, limit + 1, context.RequestAborted);
        var items = page.Take(limit).Select(WebhookResponse.From).ToList();
        return TypedResults.Ok(new Page<WebhookResponse>(items, page.Count > limit ? Cursor.Encode(items[^1].Id) : null));
    }

    public async Task<IResult> GetAsync(ApiCall call)
    {
        if (NotConfigured() is { } off)
        {
            return off;
        }
        var context = call.Http;
        var found = call.Id is { } subscriptionId ? await store.GetAsync(subscriptionId, context.RequestAborted) : null;
        return found is null ? WebhookNotFound() : TypedResults.Ok(WebhookResponse.From(found));
    }

    /// <summary>JSON merge-patch: url, events, enabled, description (null clears it). Enabling clears the disabled reason.</summary>
    public async Task<IResult> UpdateAsync(ApiCall call)
    {
        if (NotConfigured() is { } off)
        {
            return off;
        }
        var context = call.Http;
        var (document, problem) = await ApiJson.ReadDocumentAsync(context.Request, context.RequestAborted);
        if (problem is not null)
        {
            return problem;
        }
        using (document)
        {
            var changes = new WebhookChanges();
            string? urlText = null;
            foreach (var property in document!.RootElement.EnumerateObject())
            {
                var value = property.Value;
                switch (property.Name)
                {
                    case "url" when value.ValueKind == JsonValueKind.String && Text.TryGetString(value, out var text):
                        urlText = text;
                        break;
                    case "events" when value.ValueKind == JsonValueKind.Array:
                        var events = value.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String && Text.TryGetString(e, out var s) ? s : "").ToArray();
                        if (ValidateEvents(events) is { } badEvents)
                        {
                            return badEvents;
                        }
                        changes = changes with { Events = Distinct(events) };
                        break;
                    case "enabled" when value.ValueKind is JsonValueKind.True or JsonValueKind.False:
                        changes = changes with { Enabled = value.GetBoolean() };
                        break;
                    case "description" when value.ValueKind == JsonValueKind.Null:
                        changes = changes with { ClearDescription = true };
                        break;
                    case "description" when value.ValueKind == JsonValueKind.String && Text.TryGetString(value, out var description):
                        if (ValidateDescription(description) is { } badDescription)
                        {
                            return badDescription;
                        }
                        changes = changes with { Description = description };
                        break;
                    case "url" or "events" or "enabled" or "description":
                        return Problems.BadRequest($"{property.Name} has an invalid value.");
                    default:
                        return Problems.BadRequest($"Unknown or read-only field '{(property.Name.Length <= 40 ? property.Name : property.Name[..40] + "…")}'.");
                }
            }
            if (urlText is not null)
            {
                var (url, urlProblem) = await CheckUrlAsync(urlText, context.RequestAborted);
                if (urlProblem is not null)
                {
                    return urlProblem;
                }
                changes = changes with { Url = url };
            }
            var updated = call.Id is { } subscriptionId ? await store.UpdateAsync(subscriptionId, changes, context.RequestAborted) : null;
            return updated is null ? WebhookNotFound() : TypedResults.Ok(WebhookResponse.From(updated));
        }
    }

    public async Task<IResult> DeleteAsync(ApiCall call)
    {
        if (NotConfigured() is { } off)
        {
            return off;
        }
        var context = call.Http;
        var deleted = call.Id is { } subscriptionId && await store.DeleteAsync(subscriptionId, context.RequestAborted);
        return deleted ? TypedResults.NoContent() : WebhookNotFound();
    }

    /// <summary>A new secret, shown once; the previous one keeps signing beside it for the grace period.</summary>
    public async Task<IResult> RotateSecretAsync(ApiCall call)
    {
        if (NotConfigured() is { } off)
        {
            return off;
        }
        var context = call.Http;
        if (call.Id is not { } subscriptionId)
        {
            return WebhookNotFound();
        }
        var secret = WebhookSecrets.NewSecret();
        var rotated = await store.RotateSecretAsync(subscriptionId, secrets.Seal(subscriptionId, secret), options.Value.SecretRotationGrace, context.RequestAborted);
        if (rotated is null)
        {
            return WebhookNotFound();
        }
        logger.LogInformation("Rotated the secret of webhook subscription {SubscriptionId}", subscriptionId);
        return TypedResults.Ok(WebhookWithSecretResponse.From(rotated, secret));
    }

    /// <summary>Delivery attempts, newest first: <c>?limit=</c> and <c>?before=</c> (the page's <c>before</c>).</summary>
    public async Task<IResult> DeliveriesAsync(ApiCall call)
    {
        if (NotConfigured() is { } off)
        {
            return off;
        }
        var context = call.Http;
        var limitText = context.Request.Query["limit"];
        var limit = EventEndpoints.DefaultPageSize;
        if (limitText.Count > 1 || (limitText.Count == 1 && (!int.TryParse(limitText[0], NumberStyles.None, CultureInfo.InvariantCulture, out limit)
            || limit is < 1 or > EventEndpoints.MaxPageSize)))
        {
            return Problems.BadRequest($"limit must be an integer between 1 and {EventEndpoints.MaxPageSize}.");
        }
        var beforeText = context.Request.Query["before"];
        long? before = null;
        if (beforeText.Count > 1 || (beforeText.Count == 1 && !TryParsePositive(beforeText[0], out before)))
        {
            return Problems.BadRequest("before must be a value this API returned.");
        }
        if (call.Id is not { } subscriptionId || await store.GetAsync(subscriptionId, context.RequestAborted) is null)
        {
            return WebhookNotFound();
        }
        var page = await store.ListAttemptsAsync(subscriptionId, before, limit + 1, context.RequestAborted);
        var items = page.Take(limit).Select(WebhookAttemptResponse.From).ToList();
        return TypedResults.Ok(new WebhookAttemptPage(items, page.Count > limit ? items[^1].Id : null));
    }

    /// <summary>Makes a message due now (a dead letter, a delivered one, or one waiting to retry): 202, delivery follows.</summary>
    public async Task<IResult> ResendAsync(ApiCall call)
    {
        if (NotConfigured() is { } off)
        {
            return off;
        }
        var context = call.Http;
        if (call.Id is not { } subscriptionId || await store.GetAsync(subscriptionId, context.RequestAborted) is null)
        {
            return WebhookNotFound();
        }
        if (!Guid.TryParse(context.Request.RouteValues["messageId"] as string, out var message) || !await store.ResendAsync(subscriptionId, message, context.RequestAborted))
        {
            return Problems.NotFound("This subscription has no message with this id.", ProblemCodes.WebhookMessageNotFound);
        }
        logger.LogInformation("Re-sending webhook message {MessageId} of subscription {SubscriptionId}", message, subscriptionId);
        return TypedResults.Accepted((string?)null, new WebhookResendResponse(message, "pending"));
    }

    /// <summary>The 503 every webhook operation answers while no key seals the signing secrets (after authentication and limits).</summary>
    private IResult? NotConfigured() => secrets.Configured ? null : Problems.Unavailable(ProblemCodes.WebhooksNotConfigured,
        $"Webhooks are off: {AppSettingNames.WebhookSecretKey} is not set.", retryAfterSeconds: 3600);

    private async Task<(string? Url, IResult? Problem)> CheckUrlAsync(string? text, CancellationToken cancellationToken)
    {
        var (url, problem, detail) = await targets.CheckAsync(text, cancellationToken);
        return problem switch
        {
            WebhookUrlProblem.None => (url!.AbsoluteUri, null),
            WebhookUrlProblem.NotHttps => (null, Problems.BadRequest(detail!, ProblemCodes.WebhookUrlNotHttps)),
            WebhookUrlProblem.Unresolvable => (null, Problems.BadRequest(detail!, ProblemCodes.WebhookTargetUnresolvable)),
            WebhookUrlProblem.Refused => (null, Problems.BadRequest(detail!, ProblemCodes.WebhookTargetRefused)),
            _ => (null, Problems.BadRequest(detail!, ProblemCodes.WebhookUrlInvalid)),
        };
    }

    private static IResult? ValidateEvents(string[]? events)
    {
        if (events is null || events.Length == 0 || events.Length > MaxEvents)
        {
            return Problems.BadRequest($"events must list between 1 and {MaxEvents} of: {string.Join(", ", WebhookEventTypes.All)}.");
        }
        if (Array.IndexOf(events, null) >= 0)
        {
            return Problems.BadRequest("events must be strings.");
        }
        var unknown = events.FirstOrDefault(e => !WebhookEventTypes.All.Contains(e, StringComparer.Ordinal));
        return unknown is null ? null : Problems.BadRequest(
            $"'{(unknown.Length <= 40 ? unknown : unknown[..40] + "…")}' is not a message type; use: {string.Join(", ", WebhookEventTypes.All)}.",
            ProblemCodes.WebhookEventUnknown);
    }

    private static IResult? ValidateDescription(string? description) =>
        description is not null && (description.Length > MaxDescriptionLength || Text.HasControlCharacters(description))
            ? Problems.BadRequest($"description must be at most {MaxDescriptionLength} characters, without control characters.")
            : null;

    private static string[] Distinct(string[] events) => events.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();

    private static bool TryParsePositive(string? text, out long? value)
    {
        value = null;
        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) && parsed > 0)
        {
            value = parsed;
            return true;
        }
        return false;
    }

    private static IResult WebhookNotFound() => Problems.NotFound("No webhook subscription has this id.", ProblemCodes.WebhookNotFound);
}
