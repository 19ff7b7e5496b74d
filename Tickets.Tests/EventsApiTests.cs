using System.Net;
using System.Net.Http.Json;
using System.Text;
using Tickets.Api;

namespace Tickets.Tests;

public abstract class EventsApiTests(ApiHost host, ITestOutputHelper output) : HostTests(host, output)
{
    public sealed class Server(ServerHost host, ITestOutputHelper output) : EventsApiTests(host, output), IClassFixture<ServerHost>;

    public sealed class Functions(FunctionsHost host, ITestOutputHelper output) : EventsApiTests(host, output), IClassFixture<FunctionsHost>;

    [Fact]
    public async Task Admin_creates_an_event_with_a_location_and_anyone_can_read_it()
    {
        var admin = await Host.AdminTokenAsync();
        using var client = Host.NewClient(admin);
        using var response = await client.PostAsJsonAsync("events", new { name = "  Concert  ", capacity = 50, maxTicketsPerUser = 4, holdSeconds = 120 });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await response.Content.ReadFromJsonAsync<EventResponse>();
        Assert.Equal($"/api/events/{created!.Id}", response.Headers.Location!.OriginalString);
        Assert.Equal(("Concert", 50, 50, 0, 0, 4, 120), (created.Name, created.Capacity, created.Available, created.Held, created.Confirmed, created.MaxTicketsPerUser, created.HoldSeconds));

        var read = await Host.GetEventAsync(created.Id);
        Assert.Equal(created, read);
    }

    [Theory]
    [InlineData("""{"capacity":10}""")]
    [InlineData("""{"name":"","capacity":10}""")]
    [InlineData("""{"name":"x"}""")]
    [InlineData("""{"name":"x","capacity":0}""")]
    [InlineData("""{"name":"x","capacity":-5}""")]
    [InlineData("""{"name":"x","capacity":10000001}""")]
    [InlineData("""{"name":"x","capacity":10,"holdSeconds":5}""")]
    [InlineData("""{"name":"x","capacity":10,"maxTicketsPerUser":0}""")]
    [InlineData("""{"name":"x","capacity":10,"salesOpensAt":"2030-01-02T00:00:00Z","salesClosesAt":"2030-01-01T00:00:00Z"}""")]
    public async Task Create_refuses_invalid_events_with_400(string body)
    {
        using var client = Host.NewClient(await Host.AdminTokenAsync());
        using var response = await client.PostAsync("events", new StringContent(body, Encoding.UTF8, "application/json"));
        await ProblemAssert.IsProblemAsync(response, 400, ProblemCodes.InvalidRequest);
    }

    [Fact]
    public async Task List_pages_with_an_opaque_cursor_until_the_end()
    {
        var admin = await Host.AdminTokenAsync();
        var ids = new HashSet<Guid>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add((await Host.CreateEventAsync(admin, new { name = $"E{i}", capacity = 1 })).Id);
        }
        var seen = new List<Guid>();
        string? cursor = null;
        do
        {
            var page = await Host.Client.GetFromJsonAsync<Page<EventResponse>>($"events?limit=2{(cursor is null ? "" : "&cursor=" + cursor)}");
            Assert.True(page!.Items.Count <= 2);
            seen.AddRange(page.Items.Select(e => e.Id));
            cursor = page.NextCursor;
        }
        while (cursor is not null);
        Assert.Subset(seen.ToHashSet(), ids);
        Assert.Equal(seen.Count, seen.Distinct().Count());

        using var bad = await Host.Client.GetAsync("events?limit=0");
        await ProblemAssert.IsProblemAsync(bad, 400, ProblemCodes.InvalidRequest);
        using var badCursor = await Host.Client.GetAsync("events?cursor=' or 1=1 --");
        await ProblemAssert.IsProblemAsync(badCursor, 400, ProblemCodes.InvalidRequest);
    }

    [Theory]
    [InlineData("00000000-0000-0000-0000-000000000000")]
    [InlineData("not-a-guid")]
    [InlineData("1;drop table events")]
    public async Task Get_unknown_or_malformed_id_returns_404(string id)
    {
        using var response = await Host.Client.GetAsync($"events/{Uri.EscapeDataString(id)}");
        await ProblemAssert.IsProblemAsync(response, 404, ProblemCodes.EventNotFound);
    }

    [Fact]
    public async Task Patch_changes_fields_clears_with_null_and_never_takes_capacity_below_committed()
    {
        var admin = await Host.AdminTokenAsync();
        var ev = await Host.CreateEventAsync(admin, new { name = "Patch me", capacity = 10, maxTicketsPerUser = 5 });
        using var buyer = Host.NewClient(await Host.GuestTokenAsync());
        (await buyer.PostAsJsonAsync("reservations/hold", new { eventId = ev.Id, quantity = 4 })).Dispose();

        using var client = Host.NewClient(admin);
        using var ok = await client.PatchAsync($"events/{ev.Id}", Json("""{"name":"Patched","capacity":6,"maxTicketsPerUser":null}"""));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var patched = await ok.Content.ReadFromJsonAsync<EventResponse>();
        Assert.Equal(("Patched", 6, 2, 4, (int?)null), (patched!.Name, patched.Capacity, patched.Available, patched.Held, patched.MaxTicketsPerUser));

        using var below = await client.PatchAsync($"events/{ev.Id}", Json("""{"capacity":3}"""));
        await ProblemAssert.IsProblemAsync(below, 409, ProblemCodes.CapacityBelowCommitted);
        using var readOnly = await client.PatchAsync($"events/{ev.Id}", Json("""{"available":1000}"""));
        await ProblemAssert.IsProblemAsync(readOnly, 400, ProblemCodes.InvalidRequest);
        using var wrongType = await client.PatchAsync($"events/{ev.Id}", Json("""{"capacity":"12"}"""));
        await ProblemAssert.IsProblemAsync(wrongType, 400, ProblemCodes.InvalidRequest);
        using var unknown = await client.PatchAsync($"events/{Guid.NewGuid()}", Json("""{"capacity":3}"""));
        await ProblemAssert.IsProblemAsync(unknown, 404, ProblemCodes.EventNotFound);

        var after = await Host.GetEventAsync(ev.Id);
        Assert.Equal((6, 2, 4, 0), (after.Capacity, after.Available, after.Held, after.Confirmed));
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}
