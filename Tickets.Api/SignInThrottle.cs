// Throttling of password guessing without letting a stranger lock the owner out. Follows NIST SP 800-63B (rev. 3)
// §5.2.2 (rate limiting: at most 100 consecutive failed attempts per account, waiting periods that grow, and
// exempting addresses the subscriber has signed in from before) and OWASP ASVS 4.0.3 V2.2.1 (soft lockouts and
// rate limiting rather than hard lockouts). Failures are counted per account (the account the lookup found, so
// every spelling of an address counts against one account; an address without an account counts by its key)
// and client address: after SignInFailuresBeforeDelay failures each further one costs a delay that doubles, up to
// MaxSignInDelaySeconds. Across all addresses, after SignInFailuresPerAccountBeforeDelay consecutive failures the
// same growing delays apply to addresses that have never signed in to the account, not to those that have.
// A success clears the client's count and the account's. In memory, per instance; entries idle for a day go.
using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Tickets.Api;

public sealed class SignInThrottle(IOptions<RateLimitOptions> options, TimeProvider time)
{
    private const int MaxEntries = 200_000;
    private static readonly TimeSpan Forget = TimeSpan.FromDays(1);
    private readonly RateLimitOptions _options = options.Value;
    private readonly ConcurrentDictionary<(string Account, string Client), Failures> _perClient = new();
    private readonly ConcurrentDictionary<string, Failures> _perAccount = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Account, string Client), DateTimeOffset> _knownClients = new();

    private sealed class Failures
    {
        public int Count;
        public DateTimeOffset Last;
        public DateTimeOffset NotBefore;
    }

    /// <summary>How long this client must wait before it may try this account's password again; null: now.</summary>
    public TimeSpan? Wait(string account, string client)
    {
        var now = time.GetUtcNow();
        var until = Until(_perClient.GetValueOrDefault((account, client)), now);
        if (!IsKnown(account, client, now))
        {
            var accountWide = Until(_perAccount.GetValueOrDefault(account), now);
            until = accountWide > until ? accountWide : until;
        }
        return until > now ? until - now : null;
    }

    public void Failed(string account, string client)
    {
        var now = time.GetUtcNow();
        Prune(now);
        Count(_perClient.GetOrAdd((account, client), _ => new Failures()), _options.SignInFailuresBeforeDelay, now);
        Count(_perAccount.GetOrAdd(account, _ => new Failures()), _options.SignInFailuresPerAccountBeforeDelay, now);
    }

    public void Succeeded(string account, string client)
    {
        _perClient.TryRemove((account, client), out _);
        _perAccount.TryRemove(account, out _);
        _knownClients[(account, client)] = time.GetUtcNow();
    }

    private bool IsKnown(string account, string client, DateTimeOffset now) =>
        _knownClients.TryGetValue((account, client), out var at) && now - at < TimeSpan.FromDays(30);

    private static DateTimeOffset Until(Failures? failures, DateTimeOffset now)
    {
        if (failures is null)
        {
            return now;
        }
        lock (failures)
        {
            return now - failures.Last > Forget ? now : failures.NotBefore;
        }
    }

    private void Count(Failures failures, int free, DateTimeOffset now)
    {
        if (free <= 0)
        {
            return;
        }
        lock (failures)
        {
            if (now - failures.Last > Forget)
            {
                failures.Count = 0;
            }
            failures.Count++;
            failures.Last = now;
            if (failures.Count >= free)
            {
                // 1 s at the free limit, then 2, 4, 8 ... up to the maximum.
                var doublings = Math.Min(failures.Count - free, 30);
                var seconds = Math.Min(Math.Pow(2, doublings), Math.Max(1, _options.MaxSignInDelaySeconds));
                failures.NotBefore = now + TimeSpan.FromSeconds(seconds);
            }
        }
    }

    /// <summary>Keeps memory bounded under a flood of made-up accounts: idle entries go first, then everything.</summary>
    private void Prune(DateTimeOffset now)
    {
        if (_perClient.Count + _perAccount.Count + _knownClients.Count < MaxEntries)
        {
            return;
        }
        foreach (var (key, failures) in _perClient)
        {
            if (now - failures.Last > TimeSpan.FromMinutes(_options.MaxSignInDelaySeconds / 60.0 + 1))
            {
                _perClient.TryRemove(key, out _);
            }
        }
        foreach (var (key, failures) in _perAccount)
        {
            if (now - failures.Last > TimeSpan.FromMinutes(_options.MaxSignInDelaySeconds / 60.0 + 1))
            {
                _perAccount.TryRemove(key, out _);
            }
        }
        if (_perClient.Count + _perAccount.Count + _knownClients.Count >= MaxEntries)
        {
            _perClient.Clear();
            _perAccount.Clear();
            _knownClients.Clear();
        }
    }
}
