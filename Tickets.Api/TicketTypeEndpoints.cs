// /api/events/{id}/ticket-types: add and change (admin), list and read (anyone); ApiGate admits the request first. Types are never deleted: a
// paused type sells nothing and keeps its reservations.
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Tickets.Data;

namespace Tickets.Api;

public sealed class TicketTypeEndpoints(TicketTypeStore types, EventStore events, ILogger<TicketTypeEndpoints> logger)
{
    public async Task<IResult> CreateAsync(ApiCall call)
    {
        var context = call.Http;
        var (body, problem) = await ApiJson.ReadAsync<TicketTypeRequest>(context.Request, context.RequestAborted);
        if (problem is not null)
        {
            return problem;
        }
        var (type, invalid) = Read(body!);
        if (invalid is not null)
        {
            return Problems.BadRequest(invalid);
        }
        if (call.Id is not { } eventId)
        {
            return EventEndpoints.EventNotFound();
        }
        var result = await types.CreateAsync(eventId, type!, context.RequestAborted);
        if (result.Outcome == TicketTypeOutcome.Done)
        {
            logger.LogInformation("Added ticket type {TicketTypeId} to {EventId} with {Capacity} seats", result.TicketType!.Id, eventId, result.TicketType.Capacity);
            return TypedResults.Created($"/{ApiRoutes.Prefix}/events/{eventId}/ticket-types/{result.TicketType.Id}", TicketTypeResponse.From(result.TicketType));
        }
        return ToProblem(result.Outcome);
    }

    public async Task<IResult> ListAsync(ApiCall call)
    {
        var found = call.Id is { } eventId ? await events.GetAsync(eventId, call.Aborted) : null;
        return found is null ? EventEndpoints.EventNotFound() : TypedResults.Ok(found.TicketTypes.Select(TicketTypeResponse.From).ToList());
    }

    public async Task<IResult> GetAsync(ApiCall call)
    {
        var found = call.Id is { } eventId ? await events.GetAsync(eventId, call.Aborted) : null;
        var type = found?.TicketTypes.FirstOrDefault(t => TypeIdOf(call) is { } wanted && t.Id == wanted);
        return type is null ? TicketTypeNotFound() : TypedResults.Ok(TicketTypeResponse.From(type));
    }

    /// <summary>JSON merge-patch semantics: absent leaves a field, null clears an optional one.</summary>
    public async Task<IResult> UpdateAsync(ApiCall call)
    {
        var context = call.Http;
        var (changes, problem) = await ApiJson.ReadChangesAsync<TicketTypeChanges>(context.Request, TryReadChanges, context.RequestAborted);
        if (problem is not null)
        {
            return problem;
        }
        if (call.Id is not { } eventId || TypeIdOf(call) is not { } ticketTypeId)
        {
            return TicketTypeNotFound();
        }
        var result = await types.UpdateAsync(eventId, ticketTypeId, changes!, context.RequestAborted);
        return result.Outcome == TicketTypeOutcome.Done ? TypedResults.Ok(TicketTypeResponse.From(result.TicketType!)) : ToProblem(result.Outcome);
    }

    private static IResult ToProblem(TicketTypeOutcome outcome) => outcome switch
    {
        TicketTypeOutcome.EventNotFound => EventEndpoints.EventNotFound(),
        TicketTypeOutcome.NotFound => TicketTypeNotFound(),
        TicketTypeOutcome.CapacityBelowCommitted => Problems.Conflict(ProblemCodes.CapacityBelowCommitted,
            "Capacity below seats already held or sold.", "A ticket type's capacity cannot go below its held + confirmed seats."),
        TicketTypeOutcome.InvalidSalesWindow => Problems.BadRequest("salesOpensAt must be before salesClosesAt."),
        TicketTypeOutcome.TooManyTypes => Problems.Conflict(ProblemCodes.TooManyTicketTypes, "Too many ticket types.",
            $"An event has at most {Limits.MaxTicketTypesPerEvent} ticket types; pause one instead of adding another."),
        _ => throw new InvalidOperationException($"Unexpected outcome {outcome}"),
    };

    /// <summary>The route's {typeId} as a GUID; null when it is not one (answered as an unknown type, 404).</summary>
    private static Guid? TypeIdOf(ApiCall call) => Guid.TryParse(call.Request.RouteValues["typeId"] as string, out var id) ? id : null;

    private static IResult TicketTypeNotFound() => Problems.NotFound("This event has no ticket type with this id.", ProblemCodes.TicketTypeNotFound);

    /// <summary>A type to create, validated (also for the types given with a new event).</summary>
    internal static (NewTicketType? Type, string? Invalid) Read(TicketTypeRequest? body)
    {
        if (body is null)
        {
            return (null, "a ticket type must be an object.");
        }
        var name = body.Name?.Trim();
        var invalid = EventEndpoints.ValidateName(name)
            ?? ValidatePrice(body.Price, required: true)
            ?? (body.Capacity is not { } capacity || capacity is < 1 or > Limits.MaxCapacity
                ? $"capacity is required and must be between 1 and {Limits.MaxCapacity}." : null)
            ?? EventEndpoints.ValidateWindow(body.SalesOpensAt?.UtcDateTime, body.SalesClosesAt?.UtcDateTime)
            ?? EventEndpoints.ValidateMaxTickets(body.MaxTicketsPerUser)
            ?? ValidateState(body.State);
        return invalid is not null
            ? (null, invalid)
            : (new NewTicketType(name!, body.Price!.Value, body.Capacity!.Value, body.SalesOpensAt?.UtcDateTime, body.SalesClosesAt?.UtcDateTime,
                body.MaxTicketsPerUser, body.SortOrder, body.State ?? TicketTypeState.OnSale), null);
    }

    internal static bool TryReadChanges(JsonElement root, out TicketTypeChanges changes, out string? invalid)
    {
        changes = new TicketTypeChanges();
        invalid = null;
        foreach (var property in root.EnumerateObject())
        {
            var value = property.Value;
            var isNumber = value.ValueKind == JsonValueKind.Number;
            switch (property.Name)
            {
                case "price" when isNumber && value.TryGetInt32(out var price) && ValidatePrice(price, required: true) is null:
                    changes = changes with { Price = price };
                    break;
                case "sortOrder" when isNumber && value.TryGetInt32(out var order):
                    changes = changes with { SortOrder = order };
                    break;
                case "state" when value.ValueKind == JsonValueKind.String && TicketTypeState.IsKnown(value.GetString()):
                    changes = changes with { State = value.GetString() };
                    break;
                case "price" or "sortOrder" or "state":
                    invalid = $"{property.Name} has an invalid value.";
                    break;
                default:
                    invalid = EventEndpoints.ReadSaleChange(property, ref changes);
                    break;
            }
            if (invalid is not null)
            {
                return false;
            }
        }
        invalid = EventEndpoints.ValidateWindow(changes.SalesOpensAt, changes.SalesClosesAt);
        return invalid is null;
    }

    private static string? ValidatePrice(int? price, bool required) =>
        (price is null && required) || price is < 0 or > Limits.MaxPrice
            ? $"price is required and must be between 0 and {Limits.MaxPrice} (integer minor units of the event's currency)." : null;

    private static string? ValidateState(string? state) =>
        state is null || TicketTypeState.IsKnown(state) ? null : $"state must be {TicketTypeState.OnSale} or {TicketTypeState.Paused}.";
}
