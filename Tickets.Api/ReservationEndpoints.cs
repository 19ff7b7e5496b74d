// /api/reservations: hold, confirm, release (owner), cancel (admin), list and read (owner).
// Another user's reservation answers 404, never 403: ids of others are not confirmed to exist.
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Tickets.Data;

namespace Tickets.Api;

public sealed class ReservationEndpoints(
    ReservationEngine engine, HoldCombiner combiner, IOptions<TicketsOptions> options, UserStore users, IServiceProvider services)
{
    private readonly bool _batched = options.Value.HoldMode == HoldMode.Batched;

    public async Task<IResult> HoldAsync(ApiCall call)
    {
        var (context, caller) = (call.Http, call.Caller);
        var (body, problem) = await ApiJson.ReadAsync<HoldRequestBody>(context.Request, context.RequestAborted);
        if (problem is not null)
        {
            return problem;
        }
        if (body!.EventId is null || (body.Quantity is null) == (body.Items is null))
        {
            return Problems.BadRequest("eventId and either quantity or items are required.");
        }
        if (!Guid.TryParse(body.EventId, out var eventId))
        {
            return Problems.NotFound("No event has this id.", ProblemCodes.EventNotFound);
        }
        var (lines, badLines) = ReadLines(body);
        if (badLines is not null)
        {
            return badLines;
        }
        var (key, badKey) = IdempotencyHeader.Read(context.Request);
        if (badKey is not null)
        {
            return badKey;
        }
        var idempotency = key is null ? null : new IdempotencyKey<HoldResult>(key,
            IdempotencyHeader.Hash(["hold", eventId.ToString(), .. lines!.Select(l =>
                $"{l.TicketTypeId?.ToString() ?? "-"}:{l.Quantity.ToString(System.Globalization.CultureInfo.InvariantCulture)}")]),
            r => IdempotencyHeader.RenderAsync(ToResult(r), services));
        var request = new HoldRequest(caller.UserId, eventId, lines!, idempotency);
        return await WithKeyAsync(caller.UserId, key, async () =>
        {
            var result = _batched
                ? await combiner.HoldAsync(request, context.RequestAborted)
                : await engine.HoldAsync(request, context.RequestAborted);
            TicketsMetrics.Record(result);
            return ToResult(result);
        });
    }

    /// <summary>The hold's lines: the items as given, or one line of the event's only type for a bare quantity.</summary>
    private static (IReadOnlyList<HoldLine>? Lines, IResult? Problem) ReadLines(HoldRequestBody body)
    {
        if (body.Items is not { } items)
        {
            return ([new HoldLine(null, body.Quantity!.Value)], null);
        }
        if (items.Count is < 1 or > Limits.MaxLinesPerHold)
        {
            return (null, Problems.BadRequest($"items must hold 1 to {Limits.MaxLinesPerHold} lines."));
        }
        var lines = new List<HoldLine>(items.Count);
        for (var i = 0; i < items.Count; i++)
        {
            if (items[i] is not { TicketTypeId: { } typeText, Quantity: { } quantity })
            {
                return (null, Problems.BadRequest($"items[{i}] needs a ticketTypeId and a quantity."));
            }
            if (!Guid.TryParse(typeText, out var typeId))
            {
                return (null, TicketTypeNotFound(i, null));
            }
            if (lines.Any(l => l.TicketTypeId == typeId))
            {
                return (null, Problems.BadRequest($"items[{i}] names a ticket type already named by an earlier line; give each type once."));
            }
            lines.Add(new HoldLine(typeId, quantity));
        }
        return (lines, null);
    }

    private static IResult TicketTypeNotFound(int? line, Guid? typeId) => Problems.Create(StatusCodes.Status404NotFound,
        ProblemCodes.TicketTypeNotFound, "Not found.", $"Line {line}: this event has no ticket type with this id.", LineOf(line, typeId));

    /// <summary>The refused line, for problems about one line: its index in <c>items</c> and its type.</summary>
    private static KeyValuePair<string, object?>[] LineOf(int? line, Guid? typeId) =>
        line is null ? [] : [new("line", line), new("ticketTypeId", typeId)];

    /// <summary>Runs a keyed request once per key at a time in this process; unkeyed ones just run.</summary>
    private static async Task<IResult> WithKeyAsync(Guid userId, string? key, Func<Task<IResult>> run)
    {
        if (key is null)
        {
            return await run();
        }
        if (!IdempotencyHeader.TryBegin(userId, key))
        {
            return IdempotencyHeader.InUse();
        }
        try
        {
            return await run();
        }
        finally
        {
            IdempotencyHeader.End(userId, key);
        }
    }

    public static IResult ToResult(HoldResult result)
    {
        // A refusal about one line names it (its index in items, its type) in the detail and as extensions.
        var line = result.Line is { } index ? $"Line {index} (ticket type {result.TicketTypeId}): " : "";
        var extensions = LineOf(result.Line, result.TicketTypeId);
        return result.Outcome switch
        {
            HoldOutcome.Held => TypedResults.Created($"/{ApiRoutes.Prefix}/reservations/{result.Reservation!.Id}",
                ReservationResponse.From(result.Reservation)),
            HoldOutcome.EventNotFound => Problems.NotFound("No event has this id.", ProblemCodes.EventNotFound),
            HoldOutcome.TicketTypeNotFound => TicketTypeNotFound(result.Line, result.TicketTypeId),
            HoldOutcome.TicketTypeRequired => Problems.BadRequest(
                "This event sells several ticket types: send items with a ticketTypeId each instead of a bare quantity.",
                ProblemCodes.TicketTypeRequired),
            HoldOutcome.InvalidQuantity => Problems.BadRequest(
                $"Each line's quantity, and all lines together, must be between 1 and {Limits.MaxQuantityPerHold}.", ProblemCodes.InvalidQuantity),
            HoldOutcome.TicketTypeNotOnSale => Problems.Conflict(ProblemCodes.TicketTypeNotOnSale, "Ticket type not on sale.",
                $"{line}this ticket type's sales are paused.", extensions),
            HoldOutcome.SalesNotOpen => Problems.Conflict(ProblemCodes.SalesNotOpen, "Sales have not opened yet.",
                line == "" ? "This event's sales window has not opened yet." : $"{line}this ticket type's sales window has not opened yet.", extensions),
            HoldOutcome.SalesClosed => Problems.Conflict(ProblemCodes.SalesClosed, "Sales are closed.",
                line == "" ? "This event's sales window has closed." : $"{line}this ticket type's sales window has closed.", extensions),
            HoldOutcome.LimitExceeded => Problems.Conflict(ProblemCodes.LimitExceeded, "Ticket limit exceeded.", line == ""
                ? "This hold would take you over the event's per-user ticket limit (active holds and confirmed tickets of all its types count)."
                : $"{line}this hold would take you over the ticket type's per-user limit (active holds and confirmed tickets count).", extensions),
            HoldOutcome.UnknownUser => Problems.Unauthorized("The account behind this token no longer exists."),
            HoldOutcome.TooManyActiveHolds => Problems.Conflict(ProblemCodes.LimitExceeded, "Too many active holds.",
                "You already hold as many reservations as anyone may at once. Confirm or release one first."),
            HoldOutcome.TooManyHeldSeats => Problems.Conflict(ProblemCodes.LimitExceeded, "Too many seats held.",
                "This hold would take you over the number of seats anyone may hold at once across all events. Confirm or release a hold first."),
            HoldOutcome.SoldOut => Problems.Conflict(ProblemCodes.SoldOut, "Not enough seats.", line == ""
                ? "Not enough seats are available for this quantity."
                : $"{line}not enough seats of this ticket type are available for this quantity.", extensions),
            HoldOutcome.Replayed => IdempotencyHeader.Replay(result.Replay!),
            HoldOutcome.IdempotencyKeyReused => IdempotencyHeader.Reused(),
            HoldOutcome.Overloaded => Problems.Unavailable(ProblemCodes.Overloaded,
                "Too many holds are waiting for this event. Retry shortly.", retryAfterSeconds: 1),
            _ => throw new InvalidOperationException($"Unexpected outcome {result.Outcome}"),
        };
    }

    public async Task<IResult> ConfirmAsync(ApiCall call)
    {
        var (context, caller) = (call.Http, call.Caller);
        if (call.Id is not { } reservationId)
        {
            return ReservationNotFound();
        }
        var (key, badKey) = IdempotencyHeader.Read(context.Request);
        if (badKey is not null)
        {
            return badKey;
        }
        var idempotency = key is null ? null : new IdempotencyKey<ChangeResult>(key,
            IdempotencyHeader.Hash("confirm", reservationId.ToString()),
            r => IdempotencyHeader.RenderAsync(ToResult(r, "confirm"), services));
        return await WithKeyAsync(caller.UserId, key, async () =>
        {
            var result = _batched
                ? await combiner.ConfirmAsync(caller.UserId, reservationId, context.RequestAborted, idempotency)
                : await engine.ConfirmAsync(caller.UserId, reservationId, context.RequestAborted, idempotency);
            TicketsMetrics.Record(result, Transition.Confirm);
            return ToResult(result, "confirm");
        });
    }

    public async Task<IResult> ReleaseAsync(ApiCall call)
    {
        var (context, caller) = (call.Http, call.Caller);
        if (call.Id is not { } reservationId)
        {
            return ReservationNotFound();
        }
        var result = _batched
            ? await combiner.ReleaseAsync(caller!.UserId, reservationId, context.RequestAborted)
            : await engine.ReleaseAsync(caller!.UserId, reservationId, context.RequestAborted);
        return result.Outcome is ChangeOutcome.Changed or ChangeOutcome.Unchanged ? TypedResults.NoContent() : ToResult(result, "release");
    }

    public async Task<IResult> CancelAsync(ApiCall call)
    {
        if (call.Id is not { } reservationId)
        {
            return ReservationNotFound();
        }
        var result = await engine.CancelAsync(reservationId, call.Aborted);
        return ToResult(result, "cancel");
    }

    public static IResult ToResult(ChangeResult result, string action) => result.Outcome switch
    {
        ChangeOutcome.Changed or ChangeOutcome.Unchanged => TypedResults.Ok(ReservationResponse.From(result.Reservation!)),
        ChangeOutcome.NotFound => ReservationNotFound(),
        ChangeOutcome.Expired => Problems.Create(StatusCodes.Status410Gone, ProblemCodes.HoldExpired, "The hold has expired.",
            "The hold expired before it could be confirmed; its seats are back on sale. Hold again."),
        ChangeOutcome.Replayed => IdempotencyHeader.Replay(result.Replay!),
        ChangeOutcome.IdempotencyKeyReused => IdempotencyHeader.Reused(),
        ChangeOutcome.Overloaded => Problems.Unavailable(ProblemCodes.Overloaded,
            "Too many requests are waiting. Retry shortly.", retryAfterSeconds: 1),
        ChangeOutcome.WrongState => Problems.Conflict(ProblemCodes.WrongState, $"Cannot {action} this reservation.",
            $"A reservation in state {result.Reservation!.Status} cannot be {action switch { "confirm" => "confirmed", "release" => "released", _ => "cancelled" }}."),
        _ => throw new InvalidOperationException($"Unexpected outcome {result.Outcome}"),
    };

    public async Task<IResult> GetAsync(ApiCall call)
    {
        var caller = call.Caller;
        // Admins read anyone's reservation: checked against the account's role now, not the token's claim.
        var asAdmin = await Authenticate.IsStillAdminAsync(users, caller, call.Aborted);
        var found = call.Id is { } reservationId
            ? await engine.GetAsync(reservationId, asAdmin ? null : caller.UserId, call.Aborted)
            : null;
        return found is null ? ReservationNotFound() : TypedResults.Ok(ReservationResponse.From(found));
    }

    public async Task<IResult> ListAsync(ApiCall call)
    {
        if (!EventEndpoints.TryReadPage(call.Request, out var limit, out var before, out var problem))
        {
            return problem!;
        }
        var page = await engine.ListForUserAsync(call.Caller.UserId, before, limit + 1, call.Aborted);
        var items = page.Take(limit).Select(ReservationResponse.From).ToList();
        return TypedResults.Ok(new Page<ReservationResponse>(items, page.Count > limit ? Cursor.Encode(items[^1].Id) : null));
    }

    private static IResult ReservationNotFound() => Problems.NotFound("You have no reservation with this id.");
}
