using System.Net;
using System.Net.Http.Json;
using System.Text;
using Dapper;
using Tickets.Api;

namespace Tickets.Tests;

public abstract class ReservationsApiTests(ApiHost host, ITestOutputHelper output) : HostTests(host, output)
{
    public sealed class Server(ServerHost host, ITestOutputHelper output) : ReservationsApiTests(host, output), IClassFixture<ServerHost>;

    public sealed class Functions(FunctionsHost host, ITestOutputHelper output) : ReservationsApiTests(host, output), IClassFixture<FunctionsHost>;

    private async Task<EventResponse> EventAsync(object? body = null) =>
        await Host.CreateEventAsync(await Host.AdminTokenAsync(), body ?? new { name = "Show", capacity = 10 });

    private static async Task<ReservationResponse> HoldAsync(HttpClient client, Guid eventId, int quantity)
    {
        using var response = await client.PostAsJsonAsync("reservations/hold", new { eventId, quantity });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var reservation = await response.Content.ReadFromJsonAsync<ReservationResponse>();
        Assert.Equal($"/api/reservations/{reservation!.Id}", response.Headers.Location!.OriginalString);
        return reservation;
    }

    [Fact]
    public async Task A_user_holds_confirms_and_repeating_the_confirm_returns_the_same_reservation()
    {
        var ev = await EventAsync();
        var (_, token) = await Host.UserAsync();
        using var client = Host.NewClient(token);

        var held = await HoldAsync(client, ev.Id, 3);
        Assert.Equal(("HOLD", 3, ev.Id), (held.Status, held.Quantity, held.EventId));
        Assert.InRange((held.ExpiresAt - held.CreatedAt).TotalSeconds, 299, 301);
        Assert.Equal((7, 3, 0), Counters(await Host.GetEventAsync(ev.Id)));

        using var confirm = await client.PostAsync($"reservations/{held.Id}/confirm", null);
        Assert.Equal(HttpStatusCode.OK, confirm.StatusCode);
        var confirmed = await confirm.Content.ReadFromJsonAsync<ReservationResponse>();
        Assert.Equal("CONFIRMED", confirmed!.Status);
        Assert.NotNull(confirmed.ConfirmedAt);

        using var again = await client.PostAsync($"reservations/{held.Id}/confirm", null);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(confirmed, await again.Content.ReadFromJsonAsync<ReservationResponse>());
        Assert.Equal((7, 0, 3), Counters(await Host.GetEventAsync(ev.Id)));

        var mine = await client.GetFromJsonAsync<Page<ReservationResponse>>("reservations");
        Assert.Equal([held.Id], mine!.Items.Select(r => r.Id));
        Assert.Equal(confirmed, await client.GetFromJsonAsync<ReservationResponse>($"reservations/{held.Id}"));
    }

    [Fact]
    public async Task A_guest_holds_and_releases_and_the_seats_come_back_at_once()
    {
        var ev = await EventAsync();
        using var client = Host.NewClient(await Host.GuestTokenAsync());
        var held = await HoldAsync(client, ev.Id, 4);

        using var release = await client.DeleteAsync($"reservations/{held.Id}");
        Assert.Equal(HttpStatusCode.NoContent, release.StatusCode);
        Assert.Equal((10, 0, 0), Counters(await Host.GetEventAsync(ev.Id)));
        Assert.Equal("RELEASED", (await client.GetFromJsonAsync<ReservationResponse>($"reservations/{held.Id}"))!.Status);

        using var releaseAgain = await client.DeleteAsync($"reservations/{held.Id}");
        Assert.Equal(HttpStatusCode.NoContent, releaseAgain.StatusCode);
        using var confirm = await client.PostAsync($"reservations/{held.Id}/confirm", null);
        await ProblemAssert.IsProblemAsync(confirm, 409, ProblemCodes.WrongState);
    }

    [Fact]
    public async Task Another_users_reservation_is_404_for_read_confirm_and_release()
    {
        var ev = await EventAsync();
        using var owner = Host.NewClient(await Host.GuestTokenAsync());
        using var other = Host.NewClient(await Host.GuestTokenAsync());
        var held = await HoldAsync(owner, ev.Id, 1);

        using var get = await other.GetAsync($"reservations/{held.Id}");
        await ProblemAssert.IsProblemAsync(get, 404, ProblemCodes.NotFound);
        using var confirm = await other.PostAsync($"reservations/{held.Id}/confirm", null);
        await ProblemAssert.IsProblemAsync(confirm, 404, ProblemCodes.NotFound);
        using var release = await other.DeleteAsync($"reservations/{held.Id}");
        await ProblemAssert.IsProblemAsync(release, 404, ProblemCodes.NotFound);
        Assert.Empty((await other.GetFromJsonAsync<Page<ReservationResponse>>("reservations"))!.Items);
        Assert.Equal("HOLD", (await owner.GetFromJsonAsync<ReservationResponse>($"reservations/{held.Id}"))!.Status);
    }

    [Fact]
    public async Task Admin_cancels_a_confirmed_reservation_but_not_a_hold()
    {
        var ev = await EventAsync();
        using var buyer = Host.NewClient(await Host.GuestTokenAsync());
        using var admin = Host.NewClient(await Host.AdminTokenAsync());
        var confirmed = await HoldAsync(buyer, ev.Id, 2);
        (await buyer.PostAsync($"reservations/{confirmed.Id}/confirm", null)).Dispose();
        var hold = await HoldAsync(buyer, ev.Id, 1);

        using var notAdmin = await buyer.PostAsync($"reservations/{confirmed.Id}/cancel", null);
        await ProblemAssert.IsProblemAsync(notAdmin, 403, ProblemCodes.Forbidden);
        using var cancelHold = await admin.PostAsync($"reservations/{hold.Id}/cancel", null);
        await ProblemAssert.IsProblemAsync(cancelHold, 409, ProblemCodes.WrongState);
        using var cancel = await admin.PostAsync($"reservations/{confirmed.Id}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        Assert.Equal("CANCELLED", (await cancel.Content.ReadFromJsonAsync<ReservationResponse>())!.Status);
        using var unknown = await admin.PostAsync($"reservations/{Guid.NewGuid()}/cancel", null);
        await ProblemAssert.IsProblemAsync(unknown, 404, ProblemCodes.NotFound);
        Assert.Equal((9, 1, 0), Counters(await Host.GetEventAsync(ev.Id)));
    }

    [Fact]
    public async Task Confirm_after_expiry_is_410_and_the_seats_are_back_on_sale()
    {
        var ev = await EventAsync();
        using var client = Host.NewClient(await Host.GuestTokenAsync());
        var held = await HoldAsync(client, ev.Id, 5);
        await using (var connection = await Host.Db.DataSource.OpenConnectionAsync())
        {
            // Far enough in the past, and the sweep timer's own run may race us: either path must end it EXPIRED.
            await connection.ExecuteAsync("update reservations set expires_at = now() - interval '1 second' where id = @Id", new { held.Id });
        }
        using var confirm = await client.PostAsync($"reservations/{held.Id}/confirm", null);
        await ProblemAssert.IsProblemAsync(confirm, 410, ProblemCodes.HoldExpired);
        Assert.Equal("EXPIRED", (await client.GetFromJsonAsync<ReservationResponse>($"reservations/{held.Id}"))!.Status);
        Assert.Equal((10, 0, 0), Counters(await Host.GetEventAsync(ev.Id)));
    }

    [Fact]
    public async Task Refusals_sold_out_limit_exceeded_sales_closed_and_not_open_are_409_with_their_codes()
    {
        using var client = Host.NewClient(await Host.GuestTokenAsync());
        var small = await EventAsync(new { name = "Small", capacity = 2 });
        using var soldOut = await client.PostAsJsonAsync("reservations/hold", new { eventId = small.Id, quantity = 3 });
        await ProblemAssert.IsProblemAsync(soldOut, 409, ProblemCodes.SoldOut);

        var limited = await EventAsync(new { name = "Limited", capacity = 10, maxTicketsPerUser = 2 });
        await HoldAsync(client, limited.Id, 2);
        using var limit = await client.PostAsJsonAsync("reservations/hold", new { eventId = limited.Id, quantity = 1 });
        await ProblemAssert.IsProblemAsync(limit, 409, ProblemCodes.LimitExceeded);

        var closed = await EventAsync(new { name = "Closed", capacity = 10, salesClosesAt = DateTimeOffset.UtcNow.AddMinutes(-1) });
        using var closedResponse = await client.PostAsJsonAsync("reservations/hold", new { eventId = closed.Id, quantity = 1 });
        await ProblemAssert.IsProblemAsync(closedResponse, 409, ProblemCodes.SalesClosed);

        var future = await EventAsync(new { name = "Future", capacity = 10, salesOpensAt = DateTimeOffset.UtcNow.AddDays(1) });
        using var notOpen = await client.PostAsJsonAsync("reservations/hold", new { eventId = future.Id, quantity = 1 });
        await ProblemAssert.IsProblemAsync(notOpen, 409, ProblemCodes.SalesNotOpen);

        using var missing = await client.PostAsJsonAsync("reservations/hold", new { eventId = Guid.NewGuid(), quantity = 1 });
        await ProblemAssert.IsProblemAsync(missing, 404, ProblemCodes.EventNotFound);
        Assert.Equal((2, 0, 0), Counters(await Host.GetEventAsync(small.Id)));
    }

    [Theory]
    [InlineData("""{"quantity":0}""", 400, ProblemCodes.InvalidQuantity)]
    [InlineData("""{"quantity":-1}""", 400, ProblemCodes.InvalidQuantity)]
    [InlineData("""{"quantity":101}""", 400, ProblemCodes.InvalidQuantity)]
    [InlineData("""{"quantity":99999999999999999999}""", 400, ProblemCodes.InvalidJson)]
    [InlineData("""{"quantity":"2"}""", 400, ProblemCodes.InvalidJson)]
    [InlineData("""{"quantity":1.5}""", 400, ProblemCodes.InvalidJson)]
    [InlineData("""{"quantity":null}""", 400, ProblemCodes.InvalidRequest)]
    [InlineData("""{"quantity":1,"status":"CONFIRMED"}""", 400, ProblemCodes.InvalidJson)]
    [InlineData("""{"quantity":1,"userId":"00000000-0000-0000-0000-000000000001"}""", 400, ProblemCodes.InvalidJson)]
    [InlineData("""{"quantity":1,"expiresAt":"2099-01-01T00:00:00Z"}""", 400, ProblemCodes.InvalidJson)]
    [InlineData("""{"quantity":1""", 400, ProblemCodes.InvalidJson)]
    public async Task Bad_hold_bodies_get_a_4xx_problem_and_change_nothing(string bodyAfterEventId, int status, string code)
    {
        var ev = await EventAsync();
        using var client = Host.NewClient(await Host.GuestTokenAsync());
        var body = $$"""{"eventId":"{{ev.Id}}",""" + bodyAfterEventId[1..];
        using var response = await client.PostAsync("reservations/hold", new StringContent(body, Encoding.UTF8, "application/json"));
        await ProblemAssert.IsProblemAsync(response, status, code);
        Assert.Equal((10, 0, 0), Counters(await Host.GetEventAsync(ev.Id)));
    }

    [Fact]
    public async Task Wrong_content_type_is_415_and_an_oversized_body_is_413()
    {
        var ev = await EventAsync();
        using var client = Host.NewClient(await Host.GuestTokenAsync());
        using var text = await client.PostAsync("reservations/hold", new StringContent($$"""{"eventId":"{{ev.Id}}","quantity":1}""", Encoding.UTF8, "text/plain"));
        await ProblemAssert.IsProblemAsync(text, 415, ProblemCodes.UnsupportedMediaType);
        var huge = $$"""{"eventId":"{{ev.Id}}","quantity":1,"pad":"{{new string('x', 1 << 20)}}"}""";
        using var large = await client.PostAsync("reservations/hold", new StringContent(huge, Encoding.UTF8, "application/json"));
        await ProblemAssert.IsProblemAsync(large, 413, ProblemCodes.BodyTooLarge);
        Assert.Equal((10, 0, 0), Counters(await Host.GetEventAsync(ev.Id)));
    }

    private static (int Available, int Held, int Confirmed) Counters(EventResponse e) => (e.Available, e.Held, e.Confirmed);
}
