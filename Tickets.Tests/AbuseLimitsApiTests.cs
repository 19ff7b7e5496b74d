using System.Net;
using System.Net.Http.Json;
using Tickets.Api;

namespace Tickets.Tests;

/// <summary>A host with low limits. Each test is its own client address: its connections come from an address of
/// the loopback range of its own, which is what the server sees and what the Functions host forwards.</summary>
public sealed class LowLimits : IHostSettings
{
    public static IReadOnlyDictionary<string, string> Settings { get; } = new Dictionary<string, string>
    {
        ["RateLimits:WritesPerUserPerSecond"] = "2",
        ["RateLimits:AuthPerClientPerMinute"] = "5",
        ["RateLimits:MaxActiveHoldsPerUser"] = "3",
        ["RateLimits:MaxHeldSeatsPerUser"] = "5",
        ["RateLimits:HoldsPerClientPerMinute"] = "4",
        ["Tickets:DefaultMaxTicketsPerUser"] = "4",
    };
}

public abstract class AbuseLimitsApiTests(ApiHost host, ITestOutputHelper output) : HostTests(host, output)
{
    public sealed class Server(HostWith<ServerHost, LowLimits> fixture, ITestOutputHelper output)
        : AbuseLimitsApiTests(fixture.Host, output), IClassFixture<HostWith<ServerHost, LowLimits>>;

    public sealed class Functions(HostWith<FunctionsHost, LowLimits> fixture, ITestOutputHelper output)
        : AbuseLimitsApiTests(fixture.Host, output), IClassFixture<HostWith<FunctionsHost, LowLimits>>;

    /// <summary>A client connecting from 127.0.1.<paramref name="address"/> (not the default 127.0.0.1 of the host's own client), claiming some other address in X-Forwarded-For.</summary>
    private HttpClient ClientAt(int address, string? token = null)
    {
        var client = Host.NewClient(token, IPAddress.Parse($"127.0.1.{address}"));
        client.DefaultRequestHeaders.Add("X-Forwarded-For", $"203.0.113.{address}");
        return client;
    }

    private async Task<string> GuestAsync(int address)
    {
        using var client = ClientAt(address);
        using var response = await client.PostAsync("auth/guest", null);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<IssuedToken>())!.AccessToken;
    }

    [Fact]
    public async Task A_client_cannot_escape_the_per_client_rate_by_claiming_other_addresses_in_X_Forwarded_For()
    {
        using var client = Host.NewClient(from: IPAddress.Parse("127.0.1.60"));
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 12; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "auth/guest");
            request.Headers.Add("X-Forwarded-For", $"198.51.100.{i}");
            using var response = await client.SendAsync(request);
            statuses.Add(response.StatusCode);
        }
        Assert.Equal(5, statuses.Count(s => s == HttpStatusCode.Created));
        Assert.Equal(7, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
    }

    [Fact]
    public async Task Auth_requests_beyond_the_per_client_rate_get_429_with_retry_after_and_other_clients_are_unaffected()
    {
        using var client = ClientAt(1);
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
        await GuestAsync(2);
    }


    [Fact]
    public async Task A_user_with_the_maximum_of_live_holds_is_refused_another()
    {
        var ev = await Host.CreateEventAsync(await Host.AdminTokenAsync(), new { name = "Cap", capacity = 50 });
        using var client = ClientAt(40, await GuestAsync(40));
        var statuses = new List<HttpResponseMessage>();
        for (var i = 0; i < 4; i++)
        {
            statuses.Add(await client.PostAsJsonAsync("reservations/hold", new { eventId = ev.Id, quantity = 1 }));
        }
        Assert.Equal(3, statuses.Count(r => r.StatusCode == HttpStatusCode.Created));
        await ProblemAssert.IsProblemAsync(statuses[3], 409, ProblemCodes.LimitExceeded);
        statuses.ForEach(r => r.Dispose());
        Assert.Equal(47, (await Host.GetEventAsync(ev.Id)).Available);
    }

    [Fact]
    public async Task Seats_one_buyer_holds_at_once_are_capped_across_events()
    {
        var admin = await Host.AdminTokenAsync();
        var first = await Host.CreateEventAsync(admin, new { name = "Seats A", capacity = 1000, maxTicketsPerUser = 100 });
        var second = await Host.CreateEventAsync(admin, new { name = "Seats B", capacity = 1000, maxTicketsPerUser = 100 });
        using var client = ClientAt(70, await GuestAsync(70));

        using var three = await client.PostAsJsonAsync("reservations/hold", new { eventId = first.Id, quantity = 3 });
        Assert.Equal(HttpStatusCode.Created, three.StatusCode);
        using var tooMany = await client.PostAsJsonAsync("reservations/hold", new { eventId = second.Id, quantity = 3 });
        await ProblemAssert.IsProblemAsync(tooMany, 409, ProblemCodes.LimitExceeded);
        using var two = await client.PostAsJsonAsync("reservations/hold", new { eventId = second.Id, quantity = 2 });
        Assert.Equal(HttpStatusCode.Created, two.StatusCode);
        Assert.Equal(998, (await Host.GetEventAsync(second.Id)).Available);
    }

    [Fact]
    public async Task Events_created_without_a_per_user_limit_get_the_default_one()
    {
        var ev = await Host.CreateEventAsync(await Host.AdminTokenAsync(), new { name = "Default limit", capacity = 100 });
        Assert.Equal(4, ev.MaxTicketsPerUser);
        var explicitOne = await Host.CreateEventAsync(await Host.AdminTokenAsync(), new { name = "Own limit", capacity = 100, maxTicketsPerUser = 8 });
        Assert.Equal(8, explicitOne.MaxTicketsPerUser);
    }

    [Fact]
    public async Task Holds_from_one_address_are_capped_whoevers_tokens_they_carry()
    {
        var ev = await Host.CreateEventAsync(await Host.AdminTokenAsync(), new { name = "One address", capacity = 100 });
        // Five buyers whose tokens were minted elsewhere, all holding from one address.
        var guests = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            guests.Add(await GuestAsync(81 + i));
        }
        var statuses = new List<HttpStatusCode>();
        foreach (var guest in guests)
        {
            using var client = ClientAt(80, guest);
            using var response = await client.PostAsJsonAsync("reservations/hold", new { eventId = ev.Id, quantity = 1 });
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                await ProblemAssert.IsProblemAsync(response, 429, ProblemCodes.TooManyRequests);
            }
        }
        Assert.Equal(Enumerable.Repeat(HttpStatusCode.Created, 4).Append(HttpStatusCode.TooManyRequests), statuses);
        using var elsewhere = ClientAt(86, guests[4]);
        using var held = await elsewhere.PostAsJsonAsync("reservations/hold", new { eventId = ev.Id, quantity = 1 });
        Assert.Equal(HttpStatusCode.Created, held.StatusCode);
    }

    [Fact]
    public async Task Every_write_route_has_a_per_user_rate()
    {
        using var client = ClientAt(90, await GuestAsync(90));
        var releases = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => client.DeleteAsync($"reservations/{Guid.NewGuid()}")));
        Assert.True(releases.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests) >= 5,
            string.Join(",", releases.Select(r => (int)r.StatusCode)));
        await ProblemAssert.IsProblemAsync(releases.First(r => r.StatusCode == HttpStatusCode.TooManyRequests), 429, ProblemCodes.TooManyRequests);
        foreach (var response in releases)
        {
            response.Dispose();
        }

        using var admin = Host.NewClient(await Host.AdminTokenAsync(), IPAddress.Parse("127.0.1.91"));
        var creates = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => admin.PostAsJsonAsync("events", new { name = $"Burst {i}", capacity = 1 })));
        Assert.True(creates.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests) >= 5,
            string.Join(",", creates.Select(r => (int)r.StatusCode)));
        foreach (var response in creates)
        {
            response.Dispose();
        }
    }

    [Fact]
    public async Task Holds_beyond_the_per_user_rate_get_429_and_change_nothing()
    {
        var ev = await Host.CreateEventAsync(await Host.AdminTokenAsync(), new { name = "Rate", capacity = 50 });
        using var client = ClientAt(50, await GuestAsync(50));
        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ =>
            client.PostAsJsonAsync("reservations/hold", new { eventId = ev.Id, quantity = 1 })));

        var limited = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.True(limited.Count >= 6, $"only {limited.Count} of 10 were rate limited");
        await ProblemAssert.IsProblemAsync(limited[0], 429, ProblemCodes.TooManyRequests);
        var held = responses.Count(r => r.StatusCode == HttpStatusCode.Created);
        Assert.Equal(50 - held, (await Host.GetEventAsync(ev.Id)).Available);
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }
}
