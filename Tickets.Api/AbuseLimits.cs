// Per-user and per-client limits against abuse: write and auth rates (429 + Retry-After), a quota of holds per
// client address, and sign-in throttling (SignInThrottle). In memory, per instance: with N instances the effective
// ceilings are N times these (the database-backed caps — per-event ticket limits, live holds and held seats per
// user — hold globally).
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Tickets.Api;

/// <summary>The "RateLimits" configuration section; 0 turns a limit off.</summary>
public sealed class RateLimitOptions
{
    /// <summary>
    /// Write requests per user per second (token bucket, burst of twice this): hold, confirm, release, cancel,
    /// and creating or changing events.
    /// </summary>
    public int WritesPerUserPerSecond { get; set; } = 5;

    /// <summary>Register, token and guest requests per client address per minute.</summary>
    public int AuthPerClientPerMinute { get; set; } = 30;

    /// <summary>Hold requests per client address per minute, whoever's tokens they carry (one address, many guests).</summary>
    public int HoldsPerClientPerMinute { get; set; } = 60;

    /// <summary>Failed sign-ins to one account from one client address before each further one costs a growing delay.</summary>
    public int SignInFailuresBeforeDelay { get; set; } = 5;

    /// <summary>
    /// Consecutive failed sign-ins to one account from all addresses together before clients that never signed in
    /// to it successfully get growing delays too (NIST SP 800-63B: at most 100 consecutive failures per account).
    /// </summary>
    public int SignInFailuresPerAccountBeforeDelay { get; set; } = 100;

    /// <summary>Longest delay a run of failed sign-ins can cost (the delay doubles per failure up to this).</summary>
    public int MaxSignInDelaySeconds { get; set; } = 900;

    /// <summary>Live holds one user may have at once across all events.</summary>
    public int MaxActiveHoldsPerUser { get; set; } = 20;

    /// <summary>Seats one user may hold at once across all events (live holds; confirmed tickets do not count).</summary>
    public int MaxHeldSeatsPerUser { get; set; } = 20;

    /// <summary>
    /// Take the client address from the last X-Forwarded-For entry: for Tickets.Server behind exactly one reverse
    /// proxy that appends the address it saw. Off for a server exposed directly, and always off in the Functions
    /// app, whose worker has already moved that entry into the connection's address.
    /// </summary>
    public bool TrustForwardedFor { get; set; }
}

public sealed class AbuseLimits : IDisposable
{
    private readonly RateLimitOptions _options;
    private readonly PartitionedRateLimiter<Guid> _writes;
    private readonly PartitionedRateLimiter<string> _auth;
    private readonly PartitionedRateLimiter<string> _holdsPerClient;

    public AbuseLimits(IOptions<RateLimitOptions> options)
    {
        _options = options.Value;
        _writes = PartitionedRateLimiter.Create<Guid, Guid>(user => RateLimitPartition.GetTokenBucketLimiter(user, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = Math.Max(1, _options.WritesPerUserPerSecond * 2),
            TokensPerPeriod = Math.Max(1, _options.WritesPerUserPerSecond),
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
        }));
        _auth = PerClientPerMinute(_options.AuthPerClientPerMinute);
        _holdsPerClient = PerClientPerMinute(_options.HoldsPerClientPerMinute);
    }

    private static PartitionedRateLimiter<string> PerClientPerMinute(int permits) =>
        PartitionedRateLimiter.Create<string, string>(client => RateLimitPartition.GetFixedWindowLimiter(client, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = Math.Max(1, permits),
            Window = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
        }));

    /// <summary>Null when the user may send a write request now; otherwise the 429 to answer with.</summary>
    public IResult? Writes(Guid userId) =>
        _options.WritesPerUserPerSecond <= 0 ? null : Refuse(_writes.AttemptAcquire(userId), "writes", "Too many write requests; slow down.");

    /// <summary>Null when this client address may send another hold now; otherwise the 429.</summary>
    public IResult? HoldsFromClient(HttpContext context) =>
        _options.HoldsPerClientPerMinute <= 0 ? null
            : Refuse(_holdsPerClient.AttemptAcquire(ClientAddress(context)), "holds_per_client", "Too many holds from this network address; retry later.");

    /// <summary>Null when this client may call an auth endpoint now; otherwise the 429.</summary>
    public IResult? Auth(HttpContext context) =>
        _options.AuthPerClientPerMinute <= 0 ? null
            : Refuse(_auth.AttemptAcquire(ClientAddress(context)), "auth", "Too many sign-in or registration requests.");

    /// <summary>The address the request came from: the connection's, or the trusted proxy's last X-Forwarded-For entry.</summary>
    public string ClientAddress(HttpContext context)
    {
        if (_options.TrustForwardedFor && context.Request.Headers["X-Forwarded-For"].ToString() is { Length: > 0 } forwarded)
        {
            var last = forwarded[(forwarded.LastIndexOf(',') + 1)..].Trim();
            if (last.Length is > 0 and <= 64)
            {
                return last;
            }
        }
        return context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
    }

    public void Dispose()
    {
        _writes.Dispose();
        _auth.Dispose();
        _holdsPerClient.Dispose();
    }

    private static IResult? Refuse(RateLimitLease lease, string policy, string detail)
    {
        using (lease)
        {
            if (lease.IsAcquired)
            {
                return null;
            }
            var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? (int)Math.Ceiling(after.TotalSeconds) : 1;
            return Reject(policy, detail, Math.Max(1, retryAfter));
        }
    }

    internal static IResult Reject(string policy, string detail, int retryAfterSeconds)
    {
        TicketsMetrics.RateLimited.Add(1, new KeyValuePair<string, object?>("policy", policy));
        return Problems.TooManyRequests(detail, retryAfterSeconds);
    }
}
