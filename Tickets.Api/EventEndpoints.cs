// /api/events: create and change (admin), list and read (anyone).
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Tickets.Data;

namespace Tickets.Api;

public sealed class EventEndpoints(
    EventStore events, IOptions<TicketsOptions> options, ILogger<EventEndpoints> logger)
{
    public const int DefaultPageSize = 20;
    public const int MaxPageSize = 100;

    /// <summary>The per-user ticket limit of an event created without one (null: none).</summary>
    private int? DefaultMaxTicketsPerUser { get; } = options.Value.DefaultMaxTicketsPerUser is > 0 and var d ? d : null;

    public async Task<IResult> CreateAsync(ApiCall call)
    {
        var context = call.Http;
        var (body, problem) = await ApiJson.ReadAsync<CreateEventRequest>(context.Request, context.RequestAborted);
        if (problem is not null)
        {
            return problem;
        }
        var name = body!.Name?.Trim();
        var invalid = ValidateName(name)
            ?? (body.Capacity is not { } capacity || capacity is < 1 or > Limits.MaxCapacity
                ? $"capacity is required and must be between 1 and {Limits.MaxCapacity}." : null)
            ?? ValidateWindow(body.SalesOpensAt?.UtcDateTime, body.SalesClosesAt?.UtcDateTime)
            ?? ValidateMaxTickets(body.MaxTicketsPerUser)
            ?? ValidateHoldSeconds(body.HoldSeconds)
            ?? ValidateCurrency(body.Currency)
            ?? (body.TicketTypes is { Count: < 1 or > Limits.MaxTicketTypesPerEvent }
                ? $"ticketTypes, when given, must hold 1 to {Limits.MaxTicketTypesPerEvent} types." : null);
        var types = new List<NewTicketType>();
        foreach (var (type, i) in (body.TicketTypes ?? []).Select((t, i) => (t, i)))
        {
            if (invalid is not null)
            {
                break;
            }
            var (read, invalidType) = TicketTypeEndpoints.Read(type);
            invalid = invalidType is null ? null : $"ticketTypes[{i}]: {invalidType}";
            types.Add(read!);
        }
        if (invalid is not null)
        {
            return Problems.BadRequest(invalid);
        }
        var created = await events.CreateAsync(new NewEvent(name!, body.Capacity!.Value, body.SalesOpensAt?.UtcDateTime,
            body.SalesClosesAt?.UtcDateTime, body.MaxTicketsPerUser ?? DefaultMaxTicketsPerUser, body.HoldSeconds ?? Limits.DefaultHoldSeconds,
            body.Currency ?? Limits.DefaultCurrency, types), context.RequestAborted);
        logger.LogInformation("Created event {EventId} with {Capacity} seats", created.Id, created.Capacity);
        return TypedResults.Created($"/{ApiRoutes.Prefix}/events/{created.Id}", EventResponse.From(created));
    }

    public async Task<IResult> ListAsync(ApiCall call)
    {
        var context = call.Http;
        if (!TryReadPage(context.Request, out var limit, out var after, out var problem))
        {
            return problem!;
        }
        var page = await events.ListAsync(after, limit + 1, context.RequestAborted);
        var items = page.Take(limit).Select(EventResponse.From).ToList();
        return TypedResults.Ok(new Page<EventResponse>(items, page.Count > limit ? Cursor.Encode(items[^1].Id) : null));
    }

    public async Task<IResult> GetAsync(ApiCall call)
    {
        var found = call.Id is { } eventId ? await events.GetAsync(eventId, call.Aborted) : null;
        return found is null ? EventNotFound() : TypedResults.Ok(EventResponse.From(found));
    }

    /// <summary>JSON merge-patch semantics: absent leaves a field, null clears an optional one.</summary>
    public async Task<IResult> UpdateAsync(ApiCall call)
    {
        var context = call.Http;
        var (changes, problem) = await ApiJson.ReadChangesAsync<EventChanges>(context.Request, TryReadChanges, context.RequestAborted);
        if (problem is not null)
        {
            return problem;
        }
        if (call.Id is not { } eventId)
        {
            return EventNotFound();
        }
        var result = await events.UpdateAsync(eventId, changes!, context.RequestAborted);
        return result.Outcome switch
        {
            EventUpdateOutcome.Updated => TypedResults.Ok(EventResponse.From(result.Event!)),
            EventUpdateOutcome.NotFound => EventNotFound(),
            EventUpdateOutcome.CapacityBelowCommitted => Problems.Conflict(ProblemCodes.CapacityBelowCommitted,
                "Capacity below seats already held or sold.", "Capacity cannot go below held + confirmed seats."),
            EventUpdateOutcome.InvalidSalesWindow => Problems.BadRequest("salesOpensAt must be before salesClosesAt."),
            _ => throw new InvalidOperationException($"Unexpected outcome {result.Outcome}"),
        };
    }

    internal static bool TryReadChanges(JsonElement root, out EventChanges changes, out string? invalid)
    {
        changes = new EventChanges();
        invalid = null;
        foreach (var property in root.EnumerateObject())
        {
            var value = property.Value;
            switch (property.Name)
            {
                case "holdSeconds" when value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var hold) && ValidateHoldSeconds(hold) is null:
                    changes = changes with { HoldSeconds = hold };
                    break;
                case "holdSeconds":
                    invalid = $"{property.Name} has an invalid value.";
                    break;
                default:
                    invalid = ReadSaleChange(property, ref changes);
                    break;
            }
            if (invalid is not null)
            {
                return false;
            }
        }
        invalid = ValidateWindow(changes.SalesOpensAt, changes.SalesClosesAt);
        return invalid is null;
    }

    /// <summary>
    /// Reads one field of <see cref="SaleChanges"/> into <paramref name="changes"/>, the same for an event and a
    /// ticket type; the problem when the value is invalid or the field is not one of them, else null.
    /// </summary>
    internal static string? ReadSaleChange<T>(JsonProperty property, ref T changes) where T : SaleChanges
    {
        var value = property.Value;
        var isNull = value.ValueKind == JsonValueKind.Null;
        var isNumber = value.ValueKind == JsonValueKind.Number;
        string? invalid = null;
        SaleChanges read = changes;
        switch (property.Name)
        {
            case "name" when value.ValueKind == JsonValueKind.String && Text.TryGetString(value, out var rawName):
                var name = rawName.Trim();
                invalid = ValidateName(name);
                read = read with { Name = name };
                break;
            case "capacity" when isNumber && value.TryGetInt32(out var capacity) && capacity is >= 1 and <= Limits.MaxCapacity:
                read = read with { Capacity = capacity };
                break;
            case "salesOpensAt" when isNull:
                read = read with { ClearSalesOpensAt = true };
                break;
            case "salesOpensAt" when ApiJson.TryGetInstant(value, out var opens):
                read = read with { SalesOpensAt = opens.UtcDateTime };
                break;
            case "salesClosesAt" when isNull:
                read = read with { ClearSalesClosesAt = true };
                break;
            case "salesClosesAt" when ApiJson.TryGetInstant(value, out var closes):
                read = read with { SalesClosesAt = closes.UtcDateTime };
                break;
            case "maxTicketsPerUser" when isNull:
                read = read with { ClearMaxTicketsPerUser = true };
                break;
            case "maxTicketsPerUser" when isNumber && value.TryGetInt32(out var max) && ValidateMaxTickets(max) is null:
                read = read with { MaxTicketsPerUser = max };
                break;
            case "name" or "capacity" or "salesOpensAt" or "salesClosesAt" or "maxTicketsPerUser":
                invalid = $"{property.Name} has an invalid value.";
                break;
            default:
                invalid = $"Unknown or read-only field '{Truncate(property.Name)}'.";
                break;
        }
        // `with` on the base copies the derived record, so the cast only restores the static type.
        changes = (T)read;
        return invalid;
    }

    internal static bool TryReadPage(HttpRequest request, out int limit, out Guid? cursor, out IResult? problem)
    {
        limit = DefaultPageSize;
        cursor = null;
        problem = null;
        var limitText = request.Query["limit"];
        if (limitText.Count > 1 || (limitText.Count == 1 && (!int.TryParse(limitText[0], NumberStyles.None, CultureInfo.InvariantCulture, out limit)
            || limit is < 1 or > MaxPageSize)))
        {
            problem = Problems.BadRequest($"limit must be an integer between 1 and {MaxPageSize}.");
            return false;
        }
        var cursorText = request.Query["cursor"];
        if (cursorText.Count > 1 || !Cursor.TryDecode(cursorText.ToString(), out cursor))
        {
            problem = Problems.BadRequest("cursor is not a value this API returned.");
            return false;
        }
        return true;
    }

    internal static IResult EventNotFound() => Problems.NotFound("No event has this id.", ProblemCodes.EventNotFound);

    /// <summary>An ISO 4217 alphabetic code: three capital letters.</summary>
    private static string? ValidateCurrency(string? currency) =>
        currency is null || (currency.Length == 3 && currency.All(char.IsAsciiLetterUpper))
            ? null : "currency must be an ISO 4217 code: three capital letters, such as EUR.";

    internal static string? ValidateName(string? name) =>
        string.IsNullOrEmpty(name) || name.Length > Limits.MaxEventNameLength || Text.HasControlCharacters(name)
            ? $"name is required and must be at most {Limits.MaxEventNameLength} characters, without control characters." : null;

    internal static string? ValidateWindow(DateTime? opens, DateTime? closes) =>
        opens is { } o && closes is { } c && o >= c ? "salesOpensAt must be before salesClosesAt." : null;

    internal static string? ValidateMaxTickets(int? max) =>
        max is < 1 or > Limits.MaxCapacity ? $"maxTicketsPerUser must be between 1 and {Limits.MaxCapacity}." : null;

    private static string? ValidateHoldSeconds(int? seconds) =>
        seconds is < Limits.MinHoldSeconds or > Limits.MaxHoldSeconds
            ? $"holdSeconds must be between {Limits.MinHoldSeconds} and {Limits.MaxHoldSeconds}." : null;

    internal static string Truncate(string s) => s.Length <= 40 ? s : s[..40] + "…";
}
