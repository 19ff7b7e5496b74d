using System.Net;
using System.Net.Http.Json;
using Tickets.Api;

namespace Tickets.Tests;

/// <summary>
/// A host whose sign-in throttle starts early: delays after 3 failures from one address, and for addresses that
/// never signed in after 6 consecutive failures to the account from anywhere. No per-client auth rate, so every
/// answer here is the throttle's.
/// </summary>
public sealed class EarlySignInThrottle : IHostSettings
{
    public static IReadOnlyDictionary<string, string> Settings { get; } = new Dictionary<string, string>
    {
        ["RateLimits:SignInFailuresBeforeDelay"] = "3",
        ["RateLimits:SignInFailuresPerAccountBeforeDelay"] = "6",
    };
}

public abstract class SignInThrottleApiTests(ApiHost host, ITestOutputHelper output) : HostTests(host, output)
{
    public sealed class Server(HostWith<ServerHost, EarlySignInThrottle> fixture, ITestOutputHelper output)
        : SignInThrottleApiTests(fixture.Host, output), IClassFixture<HostWith<ServerHost, EarlySignInThrottle>>;

    public sealed class Functions(HostWith<FunctionsHost, EarlySignInThrottle> fixture, ITestOutputHelper output)
        : SignInThrottleApiTests(fixture.Host, output), IClassFixture<HostWith<FunctionsHost, EarlySignInThrottle>>;

    private const string Right = "right password";
    private const string Wrong = "wrong password";

    private static int _nextAddress;

    /// <summary>A client at an address of the 127.0.2.0/24 range no other test of this class uses.</summary>
    private HttpClient NewAddress() => Host.NewClient(from: IPAddress.Parse($"127.0.2.{Interlocked.Increment(ref _nextAddress)}"));

    private async Task<string> RegisterAsync(string local)
    {
        var email = $"{local}-{Guid.NewGuid():N}@example.test";
        using var client = NewAddress();
        using var response = await client.PostAsJsonAsync("auth/register", new { email, password = Right });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return email;
    }

    private static async Task<HttpResponseMessage> SignInAsync(HttpClient client, string email, string password) =>
        await client.PostAsJsonAsync("auth/token", new { email, password });

    [Fact]
    public async Task A_strangers_failures_delay_the_stranger_and_not_the_owner()
    {
        var email = await RegisterAsync("owner");
        using var stranger = NewAddress();
        for (var i = 0; i < 3; i++)
        {
            using var wrong = await SignInAsync(stranger, email, Wrong);
            await ProblemAssert.IsProblemAsync(wrong, 401, ProblemCodes.InvalidCredentials);
        }
        using var delayed = await SignInAsync(stranger, email, Right);
        await ProblemAssert.IsProblemAsync(delayed, 429, ProblemCodes.TooManyRequests);
        Assert.Equal((TimeSpan?)TimeSpan.FromSeconds(1), delayed.Headers.RetryAfter?.Delta);

        using var owner = NewAddress();
        using var signedIn = await SignInAsync(owner, email, Right);
        Assert.Equal(HttpStatusCode.OK, signedIn.StatusCode);
    }

    [Fact]
    public async Task Each_further_failure_doubles_the_delay_instead_of_locking_the_account()
    {
        var email = await RegisterAsync("doubling");
        using var client = NewAddress();
        for (var i = 0; i < 3; i++)
        {
            (await SignInAsync(client, email, Wrong)).Dispose();
        }
        using (var first = await SignInAsync(client, email, Wrong))
        {
            Assert.Equal((HttpStatusCode.TooManyRequests, (TimeSpan?)TimeSpan.FromSeconds(1)), (first.StatusCode, first.Headers.RetryAfter?.Delta));
        }
        await Task.Delay(TimeSpan.FromSeconds(1.2));
        // Started before the failure that sets the next delay: at least as long as the server's clock has run since.
        var sinceFourth = System.Diagnostics.Stopwatch.StartNew();
        using (var fourth = await SignInAsync(client, email, Wrong))
        {
            await ProblemAssert.IsProblemAsync(fourth, 401, ProblemCodes.InvalidCredentials);
        }
        using (var second = await SignInAsync(client, email, Right))
        {
            // A 2 s delay, of which the time since the fourth failure has gone (on a loaded machine, over 1 s between
            // two requests): at most 2 s remain, and at least 2 s less that time. A delay of 1 s, not doubled, would
            // give at most 1 with under a second gone, and no 429 at all after it.
            var elapsed = sinceFourth.Elapsed.TotalSeconds;
            Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
            Assert.InRange(second.Headers.RetryAfter?.Delta?.TotalSeconds ?? 0, Math.Max(1, Math.Ceiling(2 - elapsed)), 2);
        }
        await Task.Delay(TimeSpan.FromSeconds(2.2));
        using var right = await SignInAsync(client, email, Right);
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
        // A success starts the count again.
        using var again = await SignInAsync(client, email, Wrong);
        await ProblemAssert.IsProblemAsync(again, 401, ProblemCodes.InvalidCredentials);
    }

    [Fact]
    public async Task Failures_from_many_addresses_delay_new_addresses_but_not_one_the_owner_signed_in_from()
    {
        var email = await RegisterAsync("distributed");
        using var home = NewAddress();
        (await SignInAsync(home, email, Right)).EnsureSuccessStatusCode();
        for (var i = 0; i < 6; i++)
        {
            using var attacker = NewAddress();
            using var wrong = await SignInAsync(attacker, email, Wrong);
            await ProblemAssert.IsProblemAsync(wrong, 401, ProblemCodes.InvalidCredentials);
        }
        using var newcomer = NewAddress();
        using var delayed = await SignInAsync(newcomer, email, Right);
        await ProblemAssert.IsProblemAsync(delayed, 429, ProblemCodes.TooManyRequests);

        using var fromHome = await SignInAsync(home, email, Right);
        Assert.Equal(HttpStatusCode.OK, fromHome.StatusCode);
    }

    [Fact]
    public async Task A_look_alike_spelling_of_the_address_counts_against_the_same_account()
    {
        var email = await RegisterAsync("victim-kik");
        using var client = NewAddress();
        for (var i = 0; i < 3; i++)
        {
            (await SignInAsync(client, email, Wrong)).Dispose();
        }
        foreach (var lookAlike in new[] { email.Replace("kik", "\u212Aik", StringComparison.Ordinal), email.Replace("vi", "v\u0130", StringComparison.Ordinal), email.ToUpperInvariant() })
        {
            using var response = await SignInAsync(client, lookAlike, Right);
            await ProblemAssert.IsProblemAsync(response, 429, ProblemCodes.TooManyRequests);
        }
    }
}
