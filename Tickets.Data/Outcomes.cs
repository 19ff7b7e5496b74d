namespace Tickets.Data;

// Expected outcomes of engine operations: values, not exceptions. The API maps each to a status and a code.

public enum HoldOutcome
{
    Held,
    EventNotFound,
    InvalidQuantity,
    SalesNotOpen,
    SalesClosed,
    LimitExceeded,
    /// <summary>The user already has as many live holds as anyone may have at once.</summary>
    TooManyActiveHolds,
    /// <summary>The hold would take the user over the seats anyone may hold at once across all events.</summary>
    TooManyHeldSeats,
    /// <summary>The user behind the request does not exist (a token outliving its account).</summary>
    UnknownUser,
    SoldOut,
    /// <summary>A line names a type that is not one of the event's.</summary>
    TicketTypeNotFound,
    /// <summary>A line's type is paused.</summary>
    TicketTypeNotOnSale,
    /// <summary>A hold without types on an event that has several: the buyer must say which.</summary>
    TicketTypeRequired,
    /// <summary>Too many holds are already waiting in this process; retry shortly (503).</summary>
    Overloaded,
    /// <summary>A retry of a keyed request: <see cref="HoldResult.Replay"/> is the first response.</summary>
    Replayed,
    /// <summary>The Idempotency-Key was first used for a different request (422).</summary>
    IdempotencyKeyReused,
}

/// <param name="Line">The index of the refused line, when the refusal is about one line (its type's quota,
/// window, state or limit); null when it is about the whole hold (the venue, the event's window or limit).</param>
/// <param name="TicketTypeId">The type of the refused line.</param>
public readonly record struct HoldResult(HoldOutcome Outcome, Reservation? Reservation = null, StoredResponse? Replay = null,
    int? Line = null, Guid? TicketTypeId = null);

public enum ChangeOutcome
{
    /// <summary>The reservation moved to the requested state.</summary>
    Changed,
    /// <summary>It was already in the requested state (a repeated confirm): nothing changed.</summary>
    Unchanged,
    NotFound,
    WrongState,
    /// <summary>The hold expired before it could be confirmed; its seats are back on sale.</summary>
    Expired,
    /// <summary>Too many requests are already waiting in this process; retry shortly (503).</summary>
    Overloaded,
    /// <summary>A retry of a keyed request: <see cref="ChangeResult.Replay"/> is the first response.</summary>
    Replayed,
    /// <summary>The Idempotency-Key was first used for a different request (422).</summary>
    IdempotencyKeyReused,
}

public readonly record struct ChangeResult(ChangeOutcome Outcome, Reservation? Reservation = null, StoredResponse? Replay = null);

public enum EventUpdateOutcome
{
    Updated,
    NotFound,
    CapacityBelowCommitted,
    InvalidSalesWindow,
}

public readonly record struct EventUpdateResult(EventUpdateOutcome Outcome, Event? Event = null);

public enum TicketTypeOutcome
{
    Done,
    EventNotFound,
    NotFound,
    /// <summary>A quota below the type's held + confirmed seats.</summary>
    CapacityBelowCommitted,
    InvalidSalesWindow,
    TooManyTypes,
}

public readonly record struct TicketTypeResult(TicketTypeOutcome Outcome, TicketType? TicketType = null);

public readonly record struct SweepResult(int Holds, int Seats);

/// <summary>
/// The database could not be reached, or a commit's outcome is unknown. Thrown after the safe retries are
/// spent; the API answers 503 with Retry-After. Not an expected business outcome, so an exception.
/// </summary>
public sealed class DatabaseUnavailableException(string message, Exception? inner) : Exception(message, inner);
