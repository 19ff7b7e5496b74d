// Per-user and per-client limits against abuse: hold and auth rates (429 + Retry-After), login throttling
// against password guessing. In memory, per instance: with N instances the effective ceilings are N times
// these (the database-backed caps — per-event ticket limits, live holds per user — hold globally).
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Tickets.Api;

/// <summary>The "RateLimits" configuration section; 0 turns a limit off.</summary>
public sealed class RateLimitOptions
{
    /// <summary>Hold and confirm requests per user per second (token bucket, burst of twice this).</summary>
    public int HoldsPerUserPerSecond { get; set; } = 5;

    /// <summary>Register, token and guest requests per client address per minute.</summary>
    public int AuthPerClientPerMinute { get; set; } = 30;

    /// <summary>Failed sign-ins per email per 15 minutes before further attempts are refused.</summary>
    public int FailedSignInsPerEmail { get; set; } = 5;

    /// <summary>Live holds one user may have at once across all events.</summary>
    public int MaxActiveHoldsPerUser { get; set; } = 20;

    /// <summary>
    /// Take the client address from the last X-Forwarded-For entry: for Tickets.Server behind exactly one reverse
    /// proxy that appends the address it saw. Off for a server exposed directly, and always off in the Functions
    /// app, whose worker has already moved that entry into the connection's address.
    /// </summary>
    public bool TrustForwardedFor { get; set; }
}

public sealed class AbuseLimits : IDisposable
{
    private static readonly TimeSpan SignInWindow = TimeSpan.FromMinutes(15);
    private readonly RateLimitOptions _options;
    private readonly PartitionedRateLimiter<Guid> _holds;
    private readonly PartitionedRateLimiter<string> _auth;
    private readonly PartitionedRateLimiter<string> _failedSignIns;

    public AbuseLimits(IOptions<RateLimitOptions> options)
    {
        _options = options.Value;
        _holds = PartitionedRateLimiter.Create<Guid, Guid>(user => RateLimitPartition.GetTokenBucketLimiter(user, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = Math.Max(1, _options.HoldsPerUserPerSecond * 2),
            TokensPerPeriod = Math.Max(1, _options.HoldsPerUserPerSecond),
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
        }));
        _auth = PartitionedRateLimiter.Create<string, string>(client => RateLimitPartition.GetFixedWindowLimiter(client, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = Math.Max(1, _options.AuthPerClientPerMinute),
            Window = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
        }));
        _failedSignIns = PartitionedRateLimiter.Create<string, string>(email => RateLimitPartition.GetFixedWindowLimiter(email, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = Math.Max(1, _options.FailedSignInsPerEmail),
            Window = SignInWindow,
            QueueLimit = 0,
        }));
    }

    public int MaxActiveHoldsPerUser => _options.MaxActiveHoldsPerUser;

    /// <summary>Null when the user may hold or confirm now; otherwise the 429 to answer with.</summary>
    public IResult? Holds(Guid userId) =>
        _options.HoldsPerUserPerSecond <= 0 ? null : Refuse(_holds.AttemptAcquire(userId), "holds", "Too many hold or confirm requests; slow down.");

    /// <summary>Null when this client may call an auth endpoint now; otherwise the 429.</summary>
    public IResult? Auth(HttpContext context) =>
        _options.AuthPerClientPerMinute <= 0 ? null
            : Refuse(_auth.AttemptAcquire(ClientAddress(context)), "auth", "Too many sign-in or registration requests.");

    private string ClientAddress(HttpContext context)
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

    /// <summary>Whether this email is locked out by recent failures (checked before the password is).</summary>
    public IResult? SignInLockedOut(string email)
    {
        if (_options.FailedSignInsPerEmail <= 0)
        {
            return null;
        }
        var statistics = _failedSignIns.GetStatistics(Normalize(email));
        return statistics is { CurrentAvailablePermits: <= 0 }
            ? Reject("sign_in", "Too many failed sign-ins for this account; try again later.", (int)SignInWindow.TotalSeconds)
            : null;
    }

    public void SignInFailed(string email)
    {
        if (_options.FailedSignInsPerEmail > 0)
        {
            _failedSignIns.AttemptAcquire(Normalize(email)).Dispose();
        }
    }

    public void Dispose()
    {
        _holds.Dispose();
        _auth.Dispose();
        _failedSignIns.Dispose();
    }

    private static string Normalize(string email) => email.Trim().ToUpperInvariant();

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

    private static IResult Reject(string policy, string detail, int retryAfterSeconds)
    {
        TicketsMetrics.RateLimited.Add(1, new KeyValuePair<string, object?>("policy", policy));
        return Problems.TooManyRequests(detail, retryAfterSeconds);
    }
}
