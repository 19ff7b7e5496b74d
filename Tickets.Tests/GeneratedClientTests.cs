// A C# client generated at build time (NSwag) from the OpenAPI document the built server writes (Tickets.Tests.csproj)
// runs the walk-through: proof that the document is usable, not just valid.
using Tickets.Tests.Generated;

namespace Tickets.Tests;

public abstract class GeneratedClientTests(ApiHost host, ITestOutputHelper output) : HostTests(host, output)
{
    public sealed class Server(ServerHost host, ITestOutputHelper output) : GeneratedClientTests(host, output), IClassFixture<ServerHost>;

    public sealed class Functions(FunctionsHost host, ITestOutputHelper output) : GeneratedClientTests(host, output), IClassFixture<FunctionsHost>;

    // The document's paths carry the /api prefix, so the client's base is the server's root.
    private TicketsClient ClientFor(HttpClient http) => new(new Uri(Host.BaseAddress, "/").ToString(), http);

    [Fact]
    public async Task The_generated_client_gets_a_guest_token_holds_and_confirms_seats_of_an_event_an_admin_created()
    {
        using var adminHttp = Host.NewClient(await Host.AdminTokenAsync());
        var created = await ClientFor(adminHttp).CreateEventAsync(new CreateEventRequest { Name = "Generated client", Capacity = 10 });

        using var anonymous = Host.NewClient();
        var guest = await ClientFor(anonymous).GuestAsync(null);
        Assert.False(string.IsNullOrEmpty(guest.AccessToken));

        using var buyerHttp = Host.NewClient(guest.AccessToken);
        var buyer = ClientFor(buyerHttp);
        var hold = await buyer.HoldAsync(null, new HoldRequestBody { EventId = created.Id.ToString(), Quantity = 3 });
        Assert.Equal("HOLD", hold.Status.ToString(), ignoreCase: true);
        var held = await buyer.GetEventAsync(created.Id);
        Assert.Equal((7, 3, 0), (held.Available, held.Held, held.Confirmed));

        var confirmed = await buyer.ConfirmAsync(hold.Id, null);
        Assert.Equal("CONFIRMED", confirmed.Status.ToString(), ignoreCase: true);
        var after = await buyer.GetEventAsync(created.Id);
        Assert.Equal((7, 0, 3), (after.Available, after.Held, after.Confirmed));
    }

    [Fact]
    public async Task The_generated_client_reads_a_refusal_as_the_documented_problem_with_its_code()
    {
        using var anonymous = Host.NewClient();
        var error = await Assert.ThrowsAsync<ApiException<ProblemDetails>>(() =>
            ClientFor(anonymous).HoldAsync(null, new HoldRequestBody { EventId = Guid.NewGuid().ToString(), Quantity = 1 }));
        Assert.Equal((401, 401, "unauthorized"), (error.StatusCode, error.Result.Status, error.Result.Code));
    }
}
