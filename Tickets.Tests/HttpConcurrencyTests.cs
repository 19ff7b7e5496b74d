using System.Net;
using System.Net.Http.Json;
using Dapper;
using Tickets.Api;

namespace Tickets.Tests;

public abstract class HttpConcurrencyTests(ApiHost host, ITestOutputHelper output) : HostTests(host, output)
{
    public sealed class Server(ServerHost host, ITestOutputHelper output) : HttpConcurrencyTests(host, output), IClassFixture<ServerHost>;

    public sealed class Functions(FunctionsHost host, ITestOutputHelper output) : HttpConcurrencyTests(host, output), IClassFixture<FunctionsHost>;

    [Fact]
    public async Task Three_hundred_concurrent_holds_over_http_sell_exactly_the_hundred_seats()
    {
        var ev = await Host.CreateEventAsync(await Host.AdminTokenAsync(), new { name = "Hot", capacity = 100 });
        var tokens = await Task.WhenAll(Enumerable.Range(0, 300).Select(_ => Host.GuestTokenAsync()));
        var clients = tokens.Select(t => Host.NewClient(t)).ToList();
        using var start = new ManualResetEventSlim();

        var responses = await Task.WhenAll(clients.Select(client => Task.Run(async () =>
        {
            start.Wait();
            using var response = await client.PostAsJsonAsync("reservations/hold", new { eventId = ev.Id, quantity = 1 });
            return (response.StatusCode, Code: response.StatusCode == HttpStatusCode.Created ? null
                : (await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("code").GetString());
        })).Append(Task.Run(() => { start.Set(); return (HttpStatusCode.Continue, (string?)null); })));
        clients.ForEach(c => c.Dispose());

        var results = responses.Where(r => r.Item1 != HttpStatusCode.Continue).ToList();
        Assert.Equal(100, results.Count(r => r.Item1 == HttpStatusCode.Created));
        Assert.All(results.Where(r => r.Item1 != HttpStatusCode.Created), r => Assert.Equal((HttpStatusCode.Conflict, ProblemCodes.SoldOut), (r.Item1, r.Item2)));
        var after = await Host.GetEventAsync(ev.Id);
        Assert.Equal((0, 100, 0), (after.Available, after.Held, after.Confirmed));
        await using var connection = await Host.Db.DataSource.OpenConnectionAsync();
        Assert.Equal(100, await connection.ExecuteScalarAsync<int>(
            "select coalesce(sum(quantity), 0)::int from reservations where event_id = @Id and status = 'HOLD'", new { ev.Id }));
    }
}

public abstract class TimerApiTests(ApiHost host, ITestOutputHelper output) : HostTests(host, output)
{
    public sealed class Server(ServerHost host, ITestOutputHelper output) : TimerApiTests(host, output), IClassFixture<ServerHost>;

    public sealed class Functions(FunctionsHost host, ITestOutputHelper output) : TimerApiTests(host, output), IClassFixture<FunctionsHost>;

    [Fact]
    public async Task The_sweep_timer_expires_a_lapsed_hold_and_puts_its_seats_back_without_any_request()
    {
        var ev = await Host.CreateEventAsync(await Host.AdminTokenAsync(), new { name = "Timer", capacity = 5 });
        using var client = Host.NewClient(await Host.GuestTokenAsync());
        using var hold = await client.PostAsJsonAsync("reservations/hold", new { eventId = ev.Id, quantity = 2 });
        var held = await hold.Content.ReadFromJsonAsync<ReservationResponse>();
        await using (var connection = await Host.Db.DataSource.OpenConnectionAsync())
        {
            await connection.ExecuteAsync("update reservations set expires_at = now() - interval '1 second' where id = @Id", new { held!.Id });
        }

        // The test server ticks every second (the Functions app and the default server every minute); the
        // worker's timer is invoked through the stand-in host.
        var deadline = DateTime.UtcNow.AddSeconds(15);
        EventResponse after;
        do
        {
            await Host.FireSweepTimerAsync();
            await Task.Delay(250);
            after = await Host.GetEventAsync(ev.Id);
        }
        while (after.Available != 5 && DateTime.UtcNow < deadline);

        Assert.Equal((5, 0, 0), (after.Available, after.Held, after.Confirmed));
        var reservation = await client.GetFromJsonAsync<ReservationResponse>($"reservations/{held!.Id}");
        Assert.Equal("EXPIRED", reservation!.Status);
        Assert.NotNull(reservation.EndedAt);
    }
}
