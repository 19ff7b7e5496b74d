// The Idempotency-Key header (IETF httpapi draft semantics, as Stripe uses it) for hold and confirm.
// The engine stores the rendered first response in the same transaction as the hold or confirm, so a retry
// after a lost response gets those exact bytes back and never makes a second hold.
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Tickets.Data;

namespace Tickets.Api;

public static class IdempotencyHeader
{
    public const string Name = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";
    public const int MaxLength = 255;

    /// <summary>How long keys are kept; the minute job deletes older ones.</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromHours(24);

    // Keys whose first request is still running in this process: a concurrent duplicate gets 409 at once.
    // (Across instances the database's primary key is the guarantee: the later one replays the first.)
    private static readonly ConcurrentDictionary<(Guid, string), byte> InFlight = new();

    /// <summary>The key of the request, or a 400 problem if the header is malformed; (null, null) when absent.</summary>
    public static (string? Key, IResult? Problem) Read(HttpRequest request)
    {
        var values = request.Headers[Name];
        if (values.Count == 0)
        {
            return (null, null);
        }
        var key = values.Count == 1 ? values[0] : null;
        if (string.IsNullOrEmpty(key) || key.Length > MaxLength || key.Any(c => c is < '!' or > '~'))
        {
            return (null, Problems.BadRequest($"{Name} must be one value of 1 to {MaxLength} visible ASCII characters."));
        }
        return (key, null);
    }

    public static byte[] Hash(params string[] parts) => SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', parts)));

    /// <summary>Marks the key as running; false when a request with it is already running here.</summary>
    public static bool TryBegin(Guid userId, string key) => InFlight.TryAdd((userId, key), 0);

    public static void End(Guid userId, string key) => InFlight.TryRemove((userId, key), out _);

    public static IResult InUse() => Problems.Conflict(ProblemCodes.IdempotencyKeyInUse, "A request with this key is in progress.",
        $"A request with this {Name} is still being processed. Retry shortly to get its response.");

    public static IResult Reused() => Problems.Create(StatusCodes.Status422UnprocessableEntity, ProblemCodes.IdempotencyKeyReused,
        "Idempotency key reused.", $"This {Name} was already used for a different request.");

    /// <summary>Renders a result into the bytes a client receives, with the same code that answers live requests.</summary>
    public static async Task<StoredResponse> RenderAsync(IResult result, IServiceProvider services)
    {
        var context = new DefaultHttpContext { RequestServices = services };
        using var body = new MemoryStream();
        context.Response.Body = body;
        await result.ExecuteAsync(context);
        return new StoredResponse(context.Response.StatusCode, context.Response.ContentType ?? "application/json",
            body.ToArray(), context.Response.Headers.Location.Count > 0 ? context.Response.Headers.Location.ToString() : null);
    }

    /// <summary>Sends a stored first response again, byte for byte, marked as a replay.</summary>
    public static IResult Replay(StoredResponse stored) => new ReplayResult(stored);

    private sealed class ReplayResult(StoredResponse stored) : IResult, IStatusCodeHttpResult
    {
        public int? StatusCode => stored.StatusCode;

        public async Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = stored.StatusCode;
            httpContext.Response.ContentType = stored.ContentType;
            httpContext.Response.Headers[ReplayedHeader] = "true";
            if (stored.Location is not null)
            {
                httpContext.Response.Headers.Location = stored.Location;
            }
            httpContext.Response.ContentLength = stored.Body.Length;
            await httpContext.Response.Body.WriteAsync(stored.Body);
        }
    }
}
