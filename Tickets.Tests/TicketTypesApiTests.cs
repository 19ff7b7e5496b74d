using System.Net;
using System.Net.Http.Json;
using Tickets.Api;
using Tickets.Data;

namespace Tickets.Tests;

/// <summary>Ticket types over HTTP on both hosts: events sold as several types, multi-line holds, admin changes.</summary>
public abstract class TicketTypesApiTests(ApiHost host, ITestOutputHelper output) : HostTests(host, output)
{
    public sealed class Server(ServerHost host, ITestOutputHelper output) : TicketTypesApiTests(host, output), IClassFixture<ServerHost>;

    public sealed class Functions(FunctionsHost host, ITestOutputHelper output) : TicketTypesApiTests(host, output), IClassFixture<FunctionsHost>;

    private async Task<EventResponse> ConcertAsync(string admin) => await Host.CreateEventAsync(admin, new
    {
        name = "Concert",
        capacity = 100,
        currency = "CHF",
        ticketTypes = new object[]
        {
            new { name = "Standing", price = 4500, capacity = 80 },
            new { name = "Seated", price = 7900, capacity = 3, maxTicketsPerUser = 2 },
        },
    });

    private static object Items(EventResponse ev, params (int Type, int Quantity)[] lines) =>
        new { eventId = ev.Id, items = lines.Select(l => new { ticketTypeId = ev.TicketTypes[l.Type].Id, quantity = l.Quantity }).ToArray() };

    [Fact]
    public async Task A_buyer_holds_lines_of_several_types_and_the_event_shows_each_types_counters_beside_its_own()
    {
        var ev = await ConcertAsync(await Host.AdminTokenAsync());
        Assert.Equal("CHF", ev.Currency);
        Assert.Equal(new[] { ("Standing", 4500, 80), ("Seated", 7900, 3) }, ev.TicketTypes.Select(t => (t.Name, t.Price, t.Available)));
        using var client = Host.NewClient(await Host.GuestTokenAsync());

        using var response = await client.PostAsJsonAsync("reservations/hold", Items(ev, (0, 2), (1, 1)));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var held = (await response.Content.ReadFromJsonAsync<ReservationResponse>())!;
        Assert.Equal((3, 2 * 4500 + 7900L, "CHF"), (held.Quantity, held.Total, held.Currency));
        Assert.Equal(new[] { (ev.TicketTypes[0].Id, 2, 4500), (ev.TicketTypes[1].Id, 1, 7900) }.OrderBy(l => l.Item1),
            held.Lines.Select(l => (l.TicketTypeId, l.Quantity, l.UnitPrice)));
        var after = await Host.GetEventAsync(ev.Id);
        Assert.Equal((97, 3, 0), (after.Available, after.Held, after.Confirmed));
        Assert.Equal(new[] { (78, 2, 0), (2, 1, 0) }, after.TicketTypes.Select(t => (t.Available, t.Held, t.Confirmed)));
        Assert.Equal(held, await client.GetFromJsonAsync<ReservationResponse>($"reservations/{held.Id}"));

        using var confirm = await client.PostAsync($"reservations/{held.Id}/confirm", null);
        Assert.Equal(HttpStatusCode.OK, confirm.StatusCode);
        Assert.Equal(new[] { (78, 0, 2), (2, 0, 1) }, (await Host.GetEventAsync(ev.Id)).TicketTypes.Select(t => (t.Available, t.Held, t.Confirmed)));
    }

    [Fact]
    public async Task Refusals_name_the_line_and_change_nothing()
    {
        var admin = await Host.AdminTokenAsync();
        var ev = await ConcertAsync(admin);
        using var client = Host.NewClient(await Host.GuestTokenAsync());

        using (var bare = await client.PostAsJsonAsync("reservations/hold", new { eventId = ev.Id, quantity = 1 }))
        {
            await ProblemAssert.IsProblemAsync(bare, 400, ProblemCodes.TicketTypeRequired);
        }
        using (var other = Host.NewClient(await Host.GuestTokenAsync()))
        using (var first = await other.PostAsJsonAsync("reservations/hold", Items(ev, (1, 2))))
        {
            Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        }
        using (var soldOut = await client.PostAsJsonAsync("reservations/hold", Items(ev, (0, 1), (1, 2))))
        {
            var problem = await ProblemAssert.IsProblemAsync(soldOut, 409, ProblemCodes.SoldOut);
            Assert.Equal((1, ev.TicketTypes[1].Id.ToString()), (problem.GetProperty("line").GetInt32(), problem.GetProperty("ticketTypeId").GetString()));
        }
        using (var limit = await client.PostAsJsonAsync("reservations/hold", Items(ev, (1, 3))))
        {
            var problem = await ProblemAssert.IsProblemAsync(limit, 409, ProblemCodes.LimitExceeded);
            Assert.Equal(0, problem.GetProperty("line").GetInt32());
        }
        using (var unknown = await client.PostAsJsonAsync("reservations/hold", new { eventId = ev.Id, items = new[] { new { ticketTypeId = Guid.NewGuid(), quantity = 1 } } }))
        {
            await ProblemAssert.IsProblemAsync(unknown, 404, ProblemCodes.TicketTypeNotFound);
        }
        using (var twice = await client.PostAsJsonAsync("reservations/hold", Items(ev, (0, 1), (0, 1))))
        {
            await ProblemAssert.IsProblemAsync(twice, 400, ProblemCodes.InvalidRequest);
        }
        using (var both = await client.PostAsJsonAsync("reservations/hold", new { eventId = ev.Id, quantity = 1, items = new[] { new { ticketTypeId = ev.TicketTypes[0].Id, quantity = 1 } } }))
        {
            await ProblemAssert.IsProblemAsync(both, 400, ProblemCodes.InvalidRequest);
        }
        using (var pause = await Host.NewClient(admin).PatchAsJsonAsync($"events/{ev.Id}/ticket-types/{ev.TicketTypes[0].Id}", new { state = "PAUSED" }))
        {
            Assert.Equal(HttpStatusCode.OK, pause.StatusCode);
        }
        using (var paused = await client.PostAsJsonAsync("reservations/hold", Items(ev, (1, 1), (0, 1))))
        {
            var problem = await ProblemAssert.IsProblemAsync(paused, 409, ProblemCodes.TicketTypeNotOnSale);
            Assert.Equal(1, problem.GetProperty("line").GetInt32());
        }
        var after = await Host.GetEventAsync(ev.Id);
        Assert.Equal((98, 2), (after.Available, after.Held));
        Assert.Equal(new[] { 0, 2 }, after.TicketTypes.Select(t => t.Held));
    }

    [Fact]
    public async Task A_keyed_multi_line_hold_is_replayed_and_the_same_key_with_other_lines_is_refused()
    {
        var ev = await ConcertAsync(await Host.AdminTokenAsync());
        using var client = Host.NewClient(await Host.GuestTokenAsync());
        client.DefaultRequestHeaders.Add("Idempotency-Key", "lines-1");

        using var first = await client.PostAsJsonAsync("reservations/hold", Items(ev, (0, 2), (1, 1)));
        using var again = await client.PostAsJsonAsync("reservations/hold", Items(ev, (0, 2), (1, 1)));
        using var other = await client.PostAsJsonAsync("reservations/hold", Items(ev, (0, 1), (1, 1)));

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await again.Content.ReadAsStringAsync());
        await ProblemAssert.IsProblemAsync(other, 422, ProblemCodes.IdempotencyKeyReused);
        Assert.Equal(3, (await Host.GetEventAsync(ev.Id)).Held);
    }

    [Fact]
    public async Task Admins_add_and_change_types_and_a_quota_never_goes_below_what_is_held_and_sold()
    {
        var admin = await Host.AdminTokenAsync();
        var ev = await ConcertAsync(admin);
        using var adminClient = Host.NewClient(admin);
        using var buyer = Host.NewClient(await Host.GuestTokenAsync());
        using (var hold = await buyer.PostAsJsonAsync("reservations/hold", Items(ev, (1, 2))))
        {
            Assert.Equal(HttpStatusCode.Created, hold.StatusCode);
        }
        var seated = $"events/{ev.Id}/ticket-types/{ev.TicketTypes[1].Id}";

        using (var below = await adminClient.PatchAsJsonAsync(seated, new { capacity = 1 }))
        {
            await ProblemAssert.IsProblemAsync(below, 409, ProblemCodes.CapacityBelowCommitted);
        }
        using (var changed = await adminClient.PatchAsJsonAsync(seated, new { capacity = 10, price = 8900, name = "Seated, front" }))
        {
            Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
            var type = (await changed.Content.ReadFromJsonAsync<TicketTypeResponse>())!;
            Assert.Equal(("Seated, front", 8900, 10, 8, 2), (type.Name, type.Price, type.Capacity, type.Available, type.Held));
        }
        using (var added = await adminClient.PostAsJsonAsync($"events/{ev.Id}/ticket-types", new { name = "Student", price = 2000, capacity = 20 }))
        {
            Assert.Equal(HttpStatusCode.Created, added.StatusCode);
            var type = (await added.Content.ReadFromJsonAsync<TicketTypeResponse>())!;
            Assert.Equal($"/api/events/{ev.Id}/ticket-types/{type.Id}", added.Headers.Location!.OriginalString);
            Assert.Equal(type, await Host.Client.GetFromJsonAsync<TicketTypeResponse>($"events/{ev.Id}/ticket-types/{type.Id}"));
        }
        var types = await Host.Client.GetFromJsonAsync<List<TicketTypeResponse>>($"events/{ev.Id}/ticket-types");
        Assert.Equal(["Standing", "Seated, front", "Student"], types!.Select(t => t.Name));
        using (var notAdmin = await buyer.PostAsJsonAsync($"events/{ev.Id}/ticket-types", new { name = "Mine", price = 0, capacity = 1 }))
        {
            await ProblemAssert.IsProblemAsync(notAdmin, 403, ProblemCodes.Forbidden);
        }
        using (var invalid = await adminClient.PostAsJsonAsync($"events/{ev.Id}/ticket-types", new { name = "Free", price = -1, capacity = 1 }))
        {
            await ProblemAssert.IsProblemAsync(invalid, 400, ProblemCodes.InvalidRequest);
        }
        using (var missing = await adminClient.PatchAsJsonAsync($"events/{ev.Id}/ticket-types/{Guid.NewGuid()}", new { price = 1 }))
        {
            await ProblemAssert.IsProblemAsync(missing, 404, ProblemCodes.TicketTypeNotFound);
        }
        using (var badCurrency = await adminClient.PostAsJsonAsync("events", new { name = "X", capacity = 1, currency = "euro" }))
        {
            await ProblemAssert.IsProblemAsync(badCurrency, 400, ProblemCodes.InvalidRequest);
        }
    }

    [Fact]
    public async Task An_event_created_as_before_sells_its_default_type_to_a_bare_quantity()
    {
        var ev = await Host.CreateEventAsync(await Host.AdminTokenAsync(), new { name = "Plain", capacity = 10 });
        var type = Assert.Single(ev.TicketTypes);
        Assert.Equal((Limits.DefaultTicketTypeName, 0, 10, "EUR"), (type.Name, type.Price, type.Capacity, ev.Currency));
        using var client = Host.NewClient(await Host.GuestTokenAsync());

        using var response = await client.PostAsJsonAsync("reservations/hold", new { eventId = ev.Id, quantity = 2 });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var held = (await response.Content.ReadFromJsonAsync<ReservationResponse>())!;
        Assert.Equal([(type.Id, 2, 0)], held.Lines.Select(l => (l.TicketTypeId, l.Quantity, l.UnitPrice)));
        Assert.Equal(0, held.Total);
    }
}
