using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Tickets.Api;

namespace Tickets.Tests;

/// <summary>Webhooks on, with plain http and loopback targets allowed so that a receiver in the test can be reached.</summary>
public sealed class WebhooksOn : IHostSettings
{
    public static IReadOnlyDictionary<string, string> Settings { get; } = new Dictionary<string, string>
    {
        ["Webhooks:SecretKey"] = Convert.ToBase64String(Enumerable.Range(100, 32).Select(i => (byte)i).ToArray()),
        ["Webhooks:AllowHttp"] = "true",
        ["Webhooks:AllowLoopbackTargets"] = "true",
        ["Webhooks:PollInterval"] = "00:00:00.200",
        ["Webhooks:RetryBaseDelay"] = "00:00:00.200",
    };
}

public abstract class WebhooksApiTests(ApiHost host, ITestOutputHelper output) : HostTests(host, output)
{
    public sealed class Server(HostWith<ServerHost, WebhooksOn> fixture, ITestOutputHelper output)
        : WebhooksApiTests(fixture.Host, output), IClassFixture<HostWith<ServerHost, WebhooksOn>>;

    public sealed class Functions(HostWith<FunctionsHost, WebhooksOn> fixture, ITestOutputHelper output)
        : WebhooksApiTests(fixture.Host, output), IClassFixture<HostWith<FunctionsHost, WebhooksOn>>;

    private static StringContent Body(string json) => new(json, Encoding.UTF8, "application/json");

    private async Task<JsonElement> CreateAsync(HttpClient admin, object body)
    {
        using var response = await admin.PostAsJsonAsync("webhooks", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        var created = JsonDocument.Parse(text).RootElement;
        Assert.Equal($"/api/webhooks/{created.GetProperty("id").GetGuid()}", response.Headers.Location!.OriginalString);
        return created;
    }

    [Fact]
    public async Task Admin_creates_reads_lists_updates_rotates_and_deletes_a_subscription()
    {
        using var admin = Host.NewClient(await Host.AdminTokenAsync());
        var created = await CreateAsync(admin, new { url = "https://93.184.215.14/hooks", events = new[] { "reservation.confirmed", "event.sold_out", "reservation.confirmed" }, description = "Shop" });
        var id = created.GetProperty("id").GetGuid();
        var secret = created.GetProperty("secret").GetString()!;
        Assert.StartsWith("whsec_", secret);
        Assert.Equal(32, Convert.FromBase64String(secret[6..]).Length);
        Assert.Equal(["event.sold_out", "reservation.confirmed"], created.GetProperty("events").EnumerateArray().Select(e => e.GetString()!).ToArray());
        Assert.True(created.GetProperty("enabled").GetBoolean());

        // The secret is shown once.
        var read = JsonDocument.Parse(await admin.GetStringAsync($"webhooks/{id}")).RootElement;
        Assert.False(read.TryGetProperty("secret", out _));
        Assert.Equal("https://93.184.215.14/hooks", read.GetProperty("url").GetString());
        Assert.Equal("Shop", read.GetProperty("description").GetString());
        var list = JsonDocument.Parse(await admin.GetStringAsync("webhooks?limit=100")).RootElement;
        Assert.Contains(list.GetProperty("items").EnumerateArray(), w => w.GetProperty("id").GetGuid() == id);

        using (var patch = await admin.PatchAsync($"webhooks/{id}", Body("""{"enabled":false,"events":["event.updated"],"description":null,"url":"https://93.184.215.14/other"}""")))
        {
            var updated = JsonDocument.Parse(await patch.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
            Assert.False(updated.GetProperty("enabled").GetBoolean());
            Assert.Equal(["event.updated"], updated.GetProperty("events").EnumerateArray().Select(e => e.GetString()!).ToArray());
            Assert.Equal(JsonValueKind.Null, updated.GetProperty("description").ValueKind);
            Assert.Equal("https://93.184.215.14/other", updated.GetProperty("url").GetString());
        }

        using (var rotate = await admin.PostAsync($"webhooks/{id}/rotate-secret", null))
        {
            Assert.Equal(HttpStatusCode.OK, rotate.StatusCode);
            var rotated = JsonDocument.Parse(await rotate.Content.ReadAsStringAsync()).RootElement;
            Assert.NotEqual(secret, rotated.GetProperty("secret").GetString());
            Assert.True(rotated.GetProperty("previousSecretExpiresAt").GetDateTime() > DateTime.UtcNow.AddHours(1));
        }

        using (var delete = await admin.DeleteAsync($"webhooks/{id}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        }
        using var gone = await admin.GetAsync($"webhooks/{id}");
        await ProblemAssert.IsProblemAsync(gone, 404, ProblemCodes.WebhookNotFound);
    }

    [Theory]
    [InlineData("""{"url":"not a url","events":["reservation.confirmed"]}""", ProblemCodes.WebhookUrlInvalid)]
    [InlineData("""{"url":"https://user:pw@93.184.215.14/","events":["reservation.confirmed"]}""", ProblemCodes.WebhookUrlInvalid)]
    [InlineData("""{"url":"ftp://93.184.215.14/","events":["reservation.confirmed"]}""", ProblemCodes.WebhookUrlInvalid)]
    [InlineData("""{"events":["reservation.confirmed"]}""", ProblemCodes.WebhookUrlInvalid)]
    [InlineData("""{"url":"https://10.0.0.5/hook","events":["reservation.confirmed"]}""", ProblemCodes.WebhookTargetRefused)]
    [InlineData("""{"url":"https://169.254.169.254/latest/meta-data","events":["reservation.confirmed"]}""", ProblemCodes.WebhookTargetRefused)]
    [InlineData("""{"url":"https://[fd00::1]/","events":["reservation.confirmed"]}""", ProblemCodes.WebhookTargetRefused)]
    [InlineData("""{"url":"https://192.168.0.10/","events":["reservation.confirmed"]}""", ProblemCodes.WebhookTargetRefused)]
    [InlineData("""{"url":"https://no-such-host.invalid/","events":["reservation.confirmed"]}""", ProblemCodes.WebhookTargetUnresolvable)]
    [InlineData("""{"url":"https://93.184.215.14/","events":["reservation.paid"]}""", ProblemCodes.WebhookEventUnknown)]
    [InlineData("""{"url":"https://93.184.215.14/","events":[]}""", ProblemCodes.InvalidRequest)]
    [InlineData("""{"url":"https://93.184.215.14/","events":"reservation.confirmed"}""", ProblemCodes.InvalidJson)]
    [InlineData("""{"url":"https://93.184.215.14/","events":["reservation.confirmed"],"secret":"whsec_mine"}""", ProblemCodes.InvalidJson)]
    [InlineData("""{"url":"https://93.184.215.14/","events":["reservation.confirmed"],"description":"a\u0007b"}""", ProblemCodes.InvalidRequest)]
    public async Task Bad_subscriptions_are_refused_with_a_stable_code_and_nothing_is_saved(string body, string code)
    {
        using var admin = Host.NewClient(await Host.AdminTokenAsync());
        var before = JsonDocument.Parse(await admin.GetStringAsync("webhooks?limit=100")).RootElement.GetProperty("items").GetArrayLength();
        using var response = await admin.PostAsync("webhooks", Body(body));
        await ProblemAssert.IsProblemAsync(response, 400, code);
        Assert.Equal(before, JsonDocument.Parse(await admin.GetStringAsync("webhooks?limit=100")).RootElement.GetProperty("items").GetArrayLength());
    }

    [Theory]
    [InlineData("""{"url":"https://127.0.0.2.nip.invalid/"}""", ProblemCodes.WebhookTargetUnresolvable)]
    [InlineData("""{"url":"https://172.16.5.4/"}""", ProblemCodes.WebhookTargetRefused)]
    [InlineData("""{"events":["nope"]}""", ProblemCodes.WebhookEventUnknown)]
    [InlineData("""{"enabled":"yes"}""", ProblemCodes.InvalidRequest)]
    [InlineData("""{"secret":"x"}""", ProblemCodes.InvalidRequest)]
    public async Task Bad_updates_are_refused_and_change_nothing(string body, string code)
    {
        using var admin = Host.NewClient(await Host.AdminTokenAsync());
        var created = await CreateAsync(admin, new { url = "https://93.184.215.14/keep", events = new[] { "reservation.confirmed" } });
        var id = created.GetProperty("id").GetGuid();
        using var response = await admin.PatchAsync($"webhooks/{id}", Body(body));
        await ProblemAssert.IsProblemAsync(response, 400, code);
        var read = JsonDocument.Parse(await admin.GetStringAsync($"webhooks/{id}")).RootElement;
        Assert.Equal("https://93.184.215.14/keep", read.GetProperty("url").GetString());
        Assert.Equal(["reservation.confirmed"], read.GetProperty("events").EnumerateArray().Select(e => e.GetString()!).ToArray());
        Assert.True(read.GetProperty("enabled").GetBoolean());
    }

    [Fact]
    public async Task Only_admins_manage_subscriptions()
    {
        using var anonymous = Host.NewClient();
        using (var response = await anonymous.GetAsync("webhooks"))
        {
            await ProblemAssert.IsProblemAsync(response, 401, ProblemCodes.Unauthorized);
        }
        var (_, token) = await Host.UserAsync();
        using var buyer = Host.NewClient(token);
        using (var response = await buyer.PostAsJsonAsync("webhooks", new { url = "https://93.184.215.14/", events = new[] { "reservation.held" } }))
        {
            await ProblemAssert.IsProblemAsync(response, 403, ProblemCodes.Forbidden);
        }
        using (var response = await buyer.GetAsync($"webhooks/{Guid.NewGuid()}/deliveries"))
        {
            await ProblemAssert.IsProblemAsync(response, 403, ProblemCodes.Forbidden);
        }
    }

    [Fact]
    public async Task A_confirmed_reservation_reaches_the_subscriber_signed_and_can_be_re_sent()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var adminToken = await Host.AdminTokenAsync();
        using var admin = Host.NewClient(adminToken);
        var created = await CreateAsync(admin, new { url = receiver.Url.AbsoluteUri, events = new[] { "reservation.confirmed" } });
        var id = created.GetProperty("id").GetGuid();
        var secret = created.GetProperty("secret").GetString()!;

        var e = await Host.CreateEventAsync(adminToken, new { name = "Hooked", capacity = 5 });
        var (_, buyerToken) = await Host.UserAsync();
        using var buyer = Host.NewClient(buyerToken);
        using var hold = await buyer.PostAsJsonAsync("reservations/hold", new { eventId = e.Id, quantity = 2 });
        Assert.Equal(HttpStatusCode.Created, hold.StatusCode);
        var reservation = (await hold.Content.ReadFromJsonAsync<ReservationResponse>())!;
        using var confirm = await buyer.PostAsync($"reservations/{reservation.Id}/confirm", null);
        Assert.Equal(HttpStatusCode.OK, confirm.StatusCode);
        var confirmed = await confirm.Content.ReadAsStringAsync();

        await WaitForAsync(() => Task.FromResult(receiver.Delivered.Count >= 1));
        var webhook = Assert.Single(receiver.Delivered);
        Assert.True(WebhookReceiver.Verify(secret, webhook));
        var body = JsonDocument.Parse(webhook.Body).RootElement;
        Assert.Equal("reservation.confirmed", body.GetProperty("type").GetString());
        Assert.Equal(JsonDocument.Parse(confirmed).RootElement.GetRawText(), body.GetProperty("data").GetRawText());

        // The attempt is recorded once the delivery round ends, a moment after the receiver answered.
        JsonElement deliveries = default;
        await WaitForAsync(async () =>
        {
            deliveries = JsonDocument.Parse(await admin.GetStringAsync($"webhooks/{id}/deliveries")).RootElement;
            return deliveries.GetProperty("items").GetArrayLength() > 0;
        });
        var attempt = Assert.Single(deliveries.GetProperty("items").EnumerateArray());
        Assert.Equal("delivered", attempt.GetProperty("outcome").GetString());
        Assert.Equal(200, attempt.GetProperty("statusCode").GetInt32());
        var messageId = attempt.GetProperty("messageId").GetGuid();
        Assert.Equal(webhook.Id, messageId.ToString());

        using (var resend = await admin.PostAsync($"webhooks/{id}/messages/{messageId}/resend", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, resend.StatusCode);
        }
        await WaitForAsync(() => Task.FromResult(receiver.Delivered.Count >= 2));
        Assert.Equal(webhook.Id, receiver.Delivered[1].Id);

        using (var unknown = await admin.PostAsync($"webhooks/{id}/messages/{Guid.NewGuid()}/resend", null))
        {
            await ProblemAssert.IsProblemAsync(unknown, 404, ProblemCodes.WebhookMessageNotFound);
        }
        using (var badLimit = await admin.GetAsync($"webhooks/{id}/deliveries?limit=0"))
        {
            await ProblemAssert.IsProblemAsync(badLimit, 400, ProblemCodes.InvalidRequest);
        }
        using var other = await admin.GetAsync($"webhooks/{Guid.NewGuid()}/deliveries");
        await ProblemAssert.IsProblemAsync(other, 404, ProblemCodes.WebhookNotFound);
    }

    [Fact]
    public async Task Event_subscribers_get_each_change_of_an_event_and_its_types_with_the_event_as_the_api_shows_it()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var adminToken = await Host.AdminTokenAsync();
        using var admin = Host.NewClient(adminToken);
        var secret = (await CreateAsync(admin, new { url = receiver.Url.AbsoluteUri, events = new[] { "event.updated", "event.sold_out" } }))
            .GetProperty("secret").GetString()!;
        var e = await Host.CreateEventAsync(adminToken, new
        {
            name = "Typed",
            capacity = 3,
            currency = "CHF",
            ticketTypes = new object[] { new { name = "Standing", price = 4500, capacity = 2 }, new { name = "Seated", price = 7900, capacity = 1 } },
        });
        async Task<string> EventAsync() => JsonDocument.Parse(await admin.GetStringAsync($"events/{e.Id}")).RootElement.GetRawText();

        using (var added = await admin.PostAsJsonAsync($"events/{e.Id}/ticket-types", new { name = "VIP", price = 12000, capacity = 1 }))
        {
            Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        }
        var afterAdd = await EventAsync();
        for (var i = 0; i < 2; i++)
        {
            // The second time changes nothing and sends nothing.
            using var changed = await admin.PatchAsJsonAsync($"events/{e.Id}/ticket-types/{e.TicketTypes[1].Id}", new { price = 8900 });
            Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        }
        var afterChange = await EventAsync();
        using var buyer = Host.NewClient(await Host.GuestTokenAsync());
        using (var hold = await buyer.PostAsJsonAsync("reservations/hold", new
        {
            eventId = e.Id,
            items = new[] { new { ticketTypeId = e.TicketTypes[0].Id, quantity = 2 }, new { ticketTypeId = e.TicketTypes[1].Id, quantity = 1 } },
        }))
        {
            Assert.Equal(HttpStatusCode.Created, hold.StatusCode);
        }
        var afterSoldOut = await EventAsync();

        await WaitForAsync(() => Task.FromResult(receiver.Delivered.Count >= 3));
        Assert.All(receiver.Delivered, w => Assert.True(WebhookReceiver.Verify(secret, w)));
        var bodies = receiver.Delivered.Select(w => JsonDocument.Parse(w.Body).RootElement).ToList();
        Assert.Equal(["event.updated", "event.updated", "event.sold_out"], bodies.Select(b => b.GetProperty("type").GetString()!).ToArray());
        Assert.Equal([afterAdd, afterChange, afterSoldOut], bodies.Select(b => b.GetProperty("data").GetRawText()).ToArray());
    }

    private async Task WaitForAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "Timed out waiting for a webhook.");
            await Host.FireWebhookDeliveryAsync();
            await Task.Delay(100);
        }
    }
}
