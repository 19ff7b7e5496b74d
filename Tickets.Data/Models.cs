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
    /// <summary>ISO 4217 code of every price on this event.</summary>
    public string Currency { get; init; } = "EUR";
    public DateTime CreatedAt { get; init; }
    public DateTime UpdatedAt { get; init; }
    /// <summary>The event's types in display order, read with the event in one statement (empty where not read).</summary>
    public ValueList<TicketType> TicketTypes { get; init; } = ValueList<TicketType>.Empty;
}

/// <summary>A ticket type: a quota of the event's capacity with its own price, counters, window and limit.</summary>
public sealed record TicketType
{
    public Guid Id { get; init; }
    public Guid EventId { get; init; }
    public required string Name { get; init; }
    /// <summary>Integer minor units of the event's currency.</summary>
    public int Price { get; init; }
    public int Capacity { get; init; }
    public int Available { get; init; }
    public int Held { get; init; }
    public int Confirmed { get; init; }
    public DateTime? SalesOpensAt { get; init; }
    public DateTime? SalesClosesAt { get; init; }
    public int? MaxTicketsPerUser { get; init; }
    public int SortOrder { get; init; }
    public required string State { get; init; }
    public DateTime CreatedAt { get; init; }
    public DateTime UpdatedAt { get; init; }
}

/// <summary>Ticket type states as stored and shown: a paused type stays with its reservations but sells nothing.</summary>
public static class TicketTypeState
{
    public const string OnSale = "ON_SALE";
    public const string Paused = "PAUSED";

    public static bool IsKnown(string? state) => state is OnSale or Paused;
}

/// <summary>One line of a reservation: seats of one type at the price they had when held.</summary>
public sealed record ReservationLine(Guid TicketTypeId, int Quantity, int UnitPrice);

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
    /// <summary>One line per ticket type; their quantities add up to <see cref="Quantity"/>.</summary>
    public ValueList<ReservationLine> Lines { get; init; } = ValueList<ReservationLine>.Empty;
    public string Currency { get; init; } = "EUR";
    public long Total => Lines.Sum(l => (long)l.Quantity * l.UnitPrice);
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
    public const int MaxLinesPerHold = 20;
    public const int MaxTicketTypesPerEvent = 100;
    public const int MaxPrice = 100_000_000;
    public const string DefaultCurrency = "EUR";
    public const string DefaultTicketTypeName = "General admission";
}

/// <summary>
/// A read-only list compared by its items, so that the records holding one (a reservation's lines, an event's
/// types) keep value equality.
/// </summary>
[System.Text.Json.Serialization.JsonConverter(typeof(ValueListJsonConverter))]
public sealed class ValueList<T>(IReadOnlyList<T> items) : IReadOnlyList<T>, IEquatable<ValueList<T>>
{
    public static ValueList<T> Empty { get; } = new([]);

    public T this[int index] => items[index];

    public int Count => items.Count;

    public IEnumerator<T> GetEnumerator() => items.GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    public bool Equals(ValueList<T>? other) => other is not null && items.SequenceEqual(other);

    public override bool Equals(object? obj) => Equals(obj as ValueList<T>);

    public override int GetHashCode() => items.Count == 0 ? 0 : HashCode.Combine(items.Count, items[0]);

    public override string ToString() => $"[{string.Join(", ", items)}]";

    public static implicit operator ValueList<T>(T[] items) => new(items);

    public static implicit operator ValueList<T>(List<T> items) => new(items);
}

/// <summary>A <see cref="ValueList{T}"/> in JSON is a plain array.</summary>
public sealed class ValueListJsonConverter : System.Text.Json.Serialization.JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert) =>
        typeToConvert.IsGenericType && typeToConvert.GetGenericTypeDefinition() == typeof(ValueList<>);

    public override System.Text.Json.Serialization.JsonConverter CreateConverter(Type typeToConvert, System.Text.Json.JsonSerializerOptions options) =>
        (System.Text.Json.Serialization.JsonConverter)Activator.CreateInstance(typeof(Converter<>).MakeGenericType(typeToConvert.GetGenericArguments()[0]))!;

    private sealed class Converter<T> : System.Text.Json.Serialization.JsonConverter<ValueList<T>>
    {
        public override ValueList<T> Read(ref System.Text.Json.Utf8JsonReader reader, Type typeToConvert, System.Text.Json.JsonSerializerOptions options) =>
            new(System.Text.Json.JsonSerializer.Deserialize<List<T>>(ref reader, options) ?? []);

        public override void Write(System.Text.Json.Utf8JsonWriter writer, ValueList<T> value, System.Text.Json.JsonSerializerOptions options) =>
            System.Text.Json.JsonSerializer.Serialize<IEnumerable<T>>(writer, value, options);
    }
}
