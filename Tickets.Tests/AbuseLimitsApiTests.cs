using System.Net;
using System.Net.Http.Json;
using Tickets.Api;

namespace Tickets.Tests;

/// <summary>A server with low limits; each test poses as its own client address (X-Forwarded-For is trusted here).</summary>
public sealed class LowLimitsFixture : IAsyncLifetime
{
    public ServerFixture Server { get; } = new();

    public Task InitializeAsync()
    {
        Server.Settings["RateLimits:HoldsPerUserPerSecond"] = "2";
        Server.Settings["RateLimits:AuthPerClientPerMinute"] = "5";
        Server.Settings["RateLimits:FailedSignInsPerEmail"] = "3";
        Server.Settings["RateLimits:MaxActiveHoldsPerUser"] = "3";
        Server.Settings["RateLimits:TrustForwardedFor"] = "true";
        return Server.InitializeAsync();
    }

    public Task DisposeAsync() => Server.DisposeAsync();
}

public sealed class AbuseLimitsApiTests(LowLimitsFixture fixture) : IClassFixture<LowLimitsFixture>
{
    private ServerFixture Server => fixture.Server;

    private HttpClient ClientAt(string address, string? token = null)
    {
        var client = Server.NewClient(token);
        client.DefaultRequestHeaders.Add("X-Forwarded-For", $"203.0.113.200, {address}");
        return client;
    }

    private async Task<string> GuestAsync(string address)
    {
        using var client = ClientAt(address);
        using var response = await client.PostAsync("auth/guest", null);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<IssuedToken>())!.AccessToken;
    }

    [Fact]
    public async Task Auth_requests_beyond_the_per_client_rate_get_429_with_retry_after_and_other_clients_are_unaffected()
    {
        using var client = ClientAt("198.51.100.1");
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 8; i++)
        {
            using var response = await client.PostAsync("auth/guest", null);
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                await ProblemAssert.IsProblemAsync(response, 429, ProblemCodes.TooManyRequests);
                Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero);
            }
        }
        Assert.Equal(5, statuses.Count(s => s == HttpStatusCode.Created));
        Assert.Equal(3, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        await GuestAsync("198.51.100.2");
    }

    [Fact]
    public async Task Repeated_wrong_passwords_lock_the_account_out_even_for_the_right_password()
    {
        var email = $"{Guid.NewGuid():N}@example.test";
        using (var setup = ClientAt("198.51.100.10"))
        {
            (await setup.PostAsJsonAsync("auth/register", new { email, password = "right password" })).Dispose();
        }
        for (var i = 0; i < 3; i++)
        {
            using var client = ClientAt($"198.51.100.{20 + i}"); // different addresses: the per-account throttle still applies
            using var wrong = await client.PostAsJsonAsync("auth/token", new { email, password = "wrong password" });
            await ProblemAssert.IsProblemAsync(wrong, 401, ProblemCodes.InvalidCredentials);
        }
        using var last = ClientAt("198.51.100.30");
        using var locked = await last.PostAsJsonAsync("auth/token", new { email, password = "right password" });
        await ProblemAssert.IsProblemAsync(locked, 429, ProblemCodes.TooManyRequests);
    }

    [Fact]
    public async Task A_user_with_the_maximum_of_live_holds_is_refused_another()
    {
        var ev = await Server.CreateEventAsync(await Server.AdminTokenAsync(), new { name = "Cap", capacity = 50 });
        using var client = ClientAt("198.51.100.40", await GuestAsync("198.51.100.40"));
        var statuses = new List<HttpResponseMessage>();
        for (var i = 0; i < 4; i++)
        {
            statuses.Add(await client.PostAsJsonAsync("reservations/hold", new { eventId = ev.Id, quantity = 1 }));
        }
        Assert.Equal(3, statuses.Count(r => r.StatusCode == HttpStatusCode.Created));
        await ProblemAssert.IsProblemAsync(statuses[3], 409, ProblemCodes.LimitExceeded);
        statuses.ForEach(r => r.Dispose());
        Assert.Equal(47, (await Server.GetEventAsync(ev.Id)).Available);
    }

    [Fact]
    public async Task Holds_beyond_the_per_user_rate_get_429_and_change_nothing()
    {
        var ev = await Server.CreateEventAsync(await Server.AdminTokenAsync(), new { name = "Rate", capacity = 50 });
        using var client = ClientAt("198.51.100.50", await GuestAsync("198.51.100.50"));
        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ =>
            client.PostAsJsonAsync("reservations/hold", new { eventId = ev.Id, quantity = 1 })));

        var limited = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.True(limited.Count >= 6, $"only {limited.Count} of 10 were rate limited");
        await ProblemAssert.IsProblemAsync(limited[0], 429, ProblemCodes.TooManyRequests);
        var held = responses.Count(r => r.StatusCode == HttpStatusCode.Created);
        Assert.Equal(50 - held, (await Server.GetEventAsync(ev.Id)).Available);
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }
}
