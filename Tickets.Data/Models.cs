namespace Tickets.Data;

/// <summary>An event on sale, with its seat counters read in one row.</summary>
public sealed record Event
{
    public Guid Id { get; init; }
    public required string Name { get; init; }
    public int Capacity { get; init; }
    public int Available { get; init; }
    public int Held { get; init; }
    public int Confirmed { get; init; }
    public DateTime? SalesOpensAt { get; init; }
    public DateTime? SalesClosesAt { get; init; }
    public int? MaxTicketsPerUser { get; init; }
    public int HoldSeconds { get; init; }
    public DateTime CreatedAt { get; init; }
    public DateTime UpdatedAt { get; init; }
}

public sealed record Reservation
{
    public Guid Id { get; init; }
    public Guid EventId { get; init; }
    public Guid UserId { get; init; }
    public int Quantity { get; init; }
    public required string Status { get; init; }
    public DateTime CreatedAt { get; init; }
    public DateTime ExpiresAt { get; init; }
    public DateTime? ConfirmedAt { get; init; }
    public DateTime? EndedAt { get; init; }
}

/// <summary>Reservation statuses as stored and as shown to clients.</summary>
public static class ReservationStatus
{
    public const string Hold = "HOLD";
    public const string Confirmed = "CONFIRMED";
    public const string Expired = "EXPIRED";
    public const string Released = "RELEASED";
    public const string Cancelled = "CANCELLED";
}

public sealed record User
{
    public Guid Id { get; init; }
    public string? Email { get; init; }
    public string? PasswordHash { get; init; }
    public required string Role { get; init; }
    public DateTime CreatedAt { get; init; }
}

public static class Roles
{
    public const string User = "user";
    public const string Guest = "guest";
    public const string Admin = "admin";
}

/// <summary>Bounds shared by the engine and the API's validation.</summary>
public static class Limits
{
    public const int MaxQuantityPerHold = 100;
    public const int MaxCapacity = 10_000_000;
    public const int MinHoldSeconds = 30;
    public const int MaxHoldSeconds = 3600;
    public const int DefaultHoldSeconds = 300;
    public const int MaxEventNameLength = 200;
}
