// Request-body reading with the rules every endpoint shares: JSON only, bounded size, unknown fields refused
// (a client cannot set server-owned values such as status or userId), wrong types refused.
using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;

namespace Tickets.Api;

public static class ApiJson
{
    /// <summary>Largest accepted request body; every request of this API is a few hundred bytes.</summary>
    public const int MaxBodyBytes = 16 * 1024;

    public static readonly JsonSerializerOptions Options = Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    public static JsonSerializerOptions Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.PropertyNameCaseInsensitive = false;
        options.NumberHandling = JsonNumberHandling.Strict;
        options.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        options.RespectNullableAnnotations = true;
        options.AllowDuplicateProperties = false;
        options.MaxDepth = 8;
        options.Converters.Add(new UtcDateTimeConverter());
        options.Converters.Add(new InstantConverter());
        return options;
    }

    /// <summary>
    /// A JSON string that is an ISO 8601 date and time with an explicit offset (<c>Z</c> or <c>±hh:mm</c>). One
    /// without an offset is refused rather than read in the server's local time zone.
    /// </summary>
    public static bool TryGetInstant(JsonElement value, out DateTimeOffset instant)
    {
        instant = default;
        return value.ValueKind == JsonValueKind.String && value.TryGetDateTimeOffset(out instant)
            && Text.TryGetString(value, out var text) && HasOffset(text);
    }

    private static bool HasOffset(string text) =>
        text.EndsWith('Z') || text.EndsWith('z')
        || (text.Length > 6 && text[^6] is '+' or '-' && text[^3] == ':' && text.IndexOf('T', StringComparison.OrdinalIgnoreCase) is > 0 and var t && t < text.Length - 6);

    /// <summary>Every date the API writes is UTC with a <c>Z</c>, including the extremes PostgreSQL hands back unspecified.</summary>
    internal sealed class UtcDateTimeConverter : JsonConverter<DateTime>
    {
        public override DateTime Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.GetDateTimeOffset().UtcDateTime;

        public override void Write(Utf8JsonWriter writer, DateTime value, JsonSerializerOptions options) =>
            writer.WriteStringValue(value.Kind == DateTimeKind.Local ? value.ToUniversalTime() : DateTime.SpecifyKind(value, DateTimeKind.Utc));
    }

    /// <summary>Dates in requests must say their offset (see <see cref="TryGetInstant"/>).</summary>
    private sealed class InstantConverter : JsonConverter<DateTimeOffset>
    {
        public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType != JsonTokenType.String || !reader.TryGetDateTimeOffset(out var value) || !HasOffset(reader.GetString()!))
            {
                throw new JsonException("A date must be an ISO 8601 date and time with an offset (Z or +hh:mm).");
            }
            return value;
        }

        public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
            writer.WriteStringValue(value.ToUniversalTime());
    }

    public static bool IsJson(HttpRequest request) =>
        request.ContentType is { } type
        && (type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase)
            || (type.StartsWith("application/", StringComparison.OrdinalIgnoreCase) && type.Contains("+json", StringComparison.OrdinalIgnoreCase)));

    /// <summary>Reads the body as <typeparamref name="T"/>, or returns the problem to answer with.</summary>
    public static async Task<(T? Value, IResult? Problem)> ReadAsync<T>(HttpRequest request, CancellationToken cancellationToken)
        where T : class
    {
        if (!IsJson(request))
        {
            return (null, Problems.Create(StatusCodes.Status415UnsupportedMediaType, ProblemCodes.UnsupportedMediaType,
                "Unsupported media type.", "Send the body as application/json."));
        }
        var (bytes, tooLarge) = await ReadBoundedAsync(request, cancellationToken);
        if (tooLarge)
        {
            return (null, BodyTooLarge());
        }
        if (bytes.Length == 0)
        {
            return (null, Problems.BadRequest("The request body is empty.", ProblemCodes.InvalidJson));
        }
        try
        {
            var value = JsonSerializer.Deserialize<T>(bytes.Span, Options);
            return value is null
                ? (null, Problems.BadRequest("The request body must be a JSON object.", ProblemCodes.InvalidJson))
                : (value, null);
        }
        catch (JsonException ex)
        {
            return (null, Problems.BadRequest(Describe(ex), ProblemCodes.InvalidJson));
        }
    }

    /// <summary>Reads the body into a parsed document (for PATCH, where absent and null differ).</summary>
    public static async Task<(JsonDocument? Value, IResult? Problem)> ReadDocumentAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (!IsJson(request))
        {
            return (null, Problems.Create(StatusCodes.Status415UnsupportedMediaType, ProblemCodes.UnsupportedMediaType,
                "Unsupported media type.", "Send the body as application/json (or application/merge-patch+json)."));
        }
        var (bytes, tooLarge) = await ReadBoundedAsync(request, cancellationToken);
        if (tooLarge)
        {
            return (null, BodyTooLarge());
        }
        try
        {
            var document = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 8, AllowDuplicateProperties = false });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                document.Dispose();
                return (null, Problems.BadRequest("The request body must be a JSON object.", ProblemCodes.InvalidJson));
            }
            return (document, null);
        }
        catch (JsonException ex)
        {
            return (null, Problems.BadRequest(Describe(ex), ProblemCodes.InvalidJson));
        }
    }

    /// <summary>Reads a merge-patch body into changes: false with the reason when a field is unknown or invalid.</summary>
    public delegate bool ChangesReader<T>(JsonElement root, out T changes, out string? invalid);

    /// <summary>A merge-patch body read by <paramref name="tryRead"/>: the changes, or the problem to answer.</summary>
    public static async Task<(T? Value, IResult? Problem)> ReadChangesAsync<T>(HttpRequest request, ChangesReader<T> tryRead,
        CancellationToken cancellationToken) where T : class
    {
        var (document, problem) = await ReadDocumentAsync(request, cancellationToken);
        if (problem is not null)
        {
            return (null, problem);
        }
        using (document)
        {
            return tryRead(document!.RootElement, out var changes, out var invalid) ? (changes, null) : (null, Problems.BadRequest(invalid!));
        }
    }

    public static IResult BodyTooLarge() => Problems.Create(StatusCodes.Status413PayloadTooLarge, ProblemCodes.BodyTooLarge,
        "The request body is too large.", $"Request bodies are limited to {MaxBodyBytes} bytes.");

    private static async Task<(ReadOnlyMemory<byte> Bytes, bool TooLarge)> ReadBoundedAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxBodyBytes)
        {
            return (default, true);
        }
        var buffer = new ArrayBufferWriter<byte>(512);
        while (true)
        {
            var memory = buffer.GetMemory(4096);
            var read = await request.Body.ReadAsync(memory, cancellationToken);
            if (read == 0)
            {
                return (buffer.WrittenMemory, false);
            }
            buffer.Advance(read);
            if (buffer.WrittenCount > MaxBodyBytes)
            {
                return (default, true);
            }
        }
    }

    // Says where and what without echoing the input or naming .NET types.
    private static string Describe(JsonException ex)
    {
        var what = ex.Message.Contains("could not be mapped", StringComparison.Ordinal) ? "unknown or read-only field"
            : ex.Message.Contains("with an offset", StringComparison.Ordinal) ? "a date must be ISO 8601 with an offset (Z or +hh:mm)"
            : ex.Message.Contains("could not be converted", StringComparison.Ordinal) ? "wrong type or out-of-range value"
            : ex.Message.Contains("Duplicate", StringComparison.OrdinalIgnoreCase) ? "duplicate property"
            : "malformed JSON";
        return ex.Path is { Length: > 1 } path
            ? $"Invalid JSON at {path}: {what}."
            : $"Invalid JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine}): {what}.";
    }
}
