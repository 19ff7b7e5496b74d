using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Tickets.Api;

namespace Tickets.Tests;

/// <summary>
/// A local stand-in for a human-check provider's siteverify endpoint (Turnstile and hCaptcha speak the same form
/// protocol): "human" passes, "provider-down" gets a 500, anything else fails. It keeps what it was sent.
/// </summary>
public sealed class SiteVerifyStub : IAsyncDisposable
{
    private readonly WebApplication _app;

    public ConcurrentQueue<IReadOnlyDictionary<string, string>> Received { get; } = new();
    public Uri VerifyUrl { get; }

    private SiteVerifyStub(WebApplication app, Uri verifyUrl) => (_app, VerifyUrl) = (app, verifyUrl);

    public static async Task<SiteVerifyStub> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        SiteVerifyStub? stub = null;
        app.MapPost("/siteverify", async (HttpContext context) =>
        {
            var form = await context.Request.ReadFormAsync();
            stub!.Received.Enqueue(form.ToDictionary(f => f.Key, f => f.Value.ToString()));
            return form["response"].ToString() switch
            {
                "human" => Results.Json(new { success = true }),
                "provider-down" => Results.StatusCode(500),
                _ => Results.Json(new Dictionary<string, object> { ["success"] = false, ["error-codes"] = new[] { "invalid-input-response" } }),
            };
        });
        await app.StartAsync();
        stub = new SiteVerifyStub(app, new Uri(app.Urls.First() + "/siteverify"));
        return stub;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

public sealed class HumanCheckFixture<THost> : IAsyncLifetime where THost : ApiHost, new()
{
    public const string Secret = "stub-site-secret";

    public THost Host { get; } = new();
    public SiteVerifyStub Provider { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Provider = await SiteVerifyStub.StartAsync();
        Host.Settings["HumanCheck:VerifyUrl"] = Provider.VerifyUrl.ToString();
        Host.Settings["HumanCheck:Secret"] = Secret;
        await Host.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        await Provider.DisposeAsync();
    }
}

public abstract class HumanCheckApiTests(ApiHost host, SiteVerifyStub provider, ITestOutputHelper output) : HostTests(host, output)
{
    public sealed class Server(HumanCheckFixture<ServerHost> fixture, ITestOutputHelper output)
        : HumanCheckApiTests(fixture.Host, fixture.Provider, output), IClassFixture<HumanCheckFixture<ServerHost>>;

    public sealed class Functions(HumanCheckFixture<FunctionsHost> fixture, ITestOutputHelper output)
        : HumanCheckApiTests(fixture.Host, fixture.Provider, output), IClassFixture<HumanCheckFixture<FunctionsHost>>;

    private async Task<HttpResponseMessage> GuestAsync(string? response, string from)
    {
        using var client = Host.NewClient(from: IPAddress.Parse(from));
        using var request = new HttpRequestMessage(HttpMethod.Post, "auth/guest");
        if (response is not null)
        {
            request.Headers.Add(HumanCheck.Header, response);
        }
        return await client.SendAsync(request);
    }

    [Fact]
    public async Task Guest_tokens_need_a_human_check_that_the_provider_passed()
    {
        using var none = await GuestAsync(null, "127.0.3.1");
        await ProblemAssert.IsProblemAsync(none, 403, ProblemCodes.HumanCheckFailed);
        using var robot = await GuestAsync("robot", "127.0.3.1");
        await ProblemAssert.IsProblemAsync(robot, 403, ProblemCodes.HumanCheckFailed);

        using var human = await GuestAsync("human", "127.0.3.2");
        Assert.Equal(HttpStatusCode.Created, human.StatusCode);
        Assert.False(string.IsNullOrEmpty((await human.Content.ReadFromJsonAsync<IssuedToken>())!.AccessToken));
        var sent = provider.Received.Last(r => r["response"] == "human");
        Assert.Equal((HumanCheckFixture<ServerHost>.Secret, "127.0.3.2"), (sent["secret"], sent["remoteip"]));
    }

    [Fact]
    public async Task A_provider_that_cannot_answer_gets_503_and_no_token()
    {
        using var down = await GuestAsync("provider-down", "127.0.3.3");
        await ProblemAssert.IsProblemAsync(down, 503, ProblemCodes.HumanCheckUnavailable);
        Assert.True(down.Headers.RetryAfter?.Delta > TimeSpan.Zero);
    }
}
