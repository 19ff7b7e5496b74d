using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Tickets.Api;

namespace Tickets.Tests;

public abstract class OperationsApiTests(ApiHost host, ITestOutputHelper output) : HostTests(host, output)
{
    public sealed class Server(ServerHost host, ITestOutputHelper output) : OperationsApiTests(host, output), IClassFixture<ServerHost>;

    public sealed class Functions(FunctionsHost host, ITestOutputHelper output) : OperationsApiTests(host, output), IClassFixture<FunctionsHost>;

    [Fact]
    public async Task Health_reports_the_database_and_live_answers_without_it()
    {
        Assert.Equal(new HealthResponse("ok", "ok"), await Host.Client.GetFromJsonAsync<HealthResponse>("health"));
        using var live = await Host.Client.GetAsync("health/live");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
    }

    [Fact]
    public async Task Responses_carry_no_web_server_banner()
    {
        using var response = await Host.Client.GetAsync("health/live");
        response.EnsureSuccessStatusCode();
        Assert.False(response.Headers.Contains("Server"), $"Server: {string.Join(",", response.Headers.TryGetValues("Server", out var v) ? v : [])}");
    }

    [Fact]
    public async Task The_openapi_document_describes_every_declared_operation_and_nothing_else()
    {
        using var response = await Host.Client.GetAsync("openapi.json");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.StartsWith("3.", document.RootElement.GetProperty("openapi").GetString(), StringComparison.Ordinal);

        var documented = document.RootElement.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject().Select(op =>
                (Name: op.Value.GetProperty("operationId").GetString(), Method: op.Name.ToUpperInvariant(), Template: path.Name)))
            .OrderBy(x => x.Name, StringComparer.Ordinal).ToList();
        // The docs page's own files (Scalar's scripts) are not operations of the API.
        var routes = ApiRoutes.All.Where(r => r.Documented).Select(r => ((string?)r.Name, r.Method, $"/{ApiRoutes.Prefix}/{r.Template}")).OrderBy(x => x.Item1, StringComparer.Ordinal).ToList();
        Assert.Equal(routes, documented);
    }

    [Fact]
    public async Task The_docs_page_is_self_contained_and_documents_every_problem_code()
    {
        using var response = await Host.Client.GetAsync("docs");
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var html = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal);
        var codes = typeof(ProblemCodes).GetFields().Select(f => (string)f.GetRawConstantValue()!).ToList();
        Assert.NotEmpty(codes);
        Assert.All(codes, code => Assert.Contains($"id=\"problem-{code}\"", html, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Unknown_routes_and_methods_answer_with_problem_documents_on_the_server_and_a_bare_404_from_the_functions_host()
    {
        using var missing = await Host.Client.GetAsync("no-such-thing");
        using var method = await Host.Client.PutAsync("events", null);
        if (Host is FunctionsHost)
        {
            // A platform difference (README): the Functions host answers requests no function declares itself,
            // before any worker code runs.
            Assert.Equal((HttpStatusCode.NotFound, HttpStatusCode.NotFound), (missing.StatusCode, method.StatusCode));
            Assert.Equal(("", ""), (await missing.Content.ReadAsStringAsync(), await method.Content.ReadAsStringAsync()));
            return;
        }
        await ProblemAssert.IsProblemAsync(missing, 404, ProblemCodes.NotFound);
        await ProblemAssert.IsProblemAsync(method, 405, ProblemCodes.MethodNotAllowed);
    }
}

/// <summary>A host whose database does not exist on the network: every database call must fail fast as 503.</summary>
public sealed class DeadDatabase : IHostSettings
{
    public static IReadOnlyDictionary<string, string> Settings { get; } = new Dictionary<string, string>
    {
        // Port 9 (discard) on loopback: nothing listens, connections are refused at once.
        ["ConnectionStrings:Tickets"] = "Host=127.0.0.1;Port=9;Username=postgres;Database=none",
    };
}

public abstract class DatabaseDownApiTests(ApiHost host, ITestOutputHelper output) : HostTests(host, output)
{
    public sealed class Server(HostWith<ServerHost, DeadDatabase> fixture, ITestOutputHelper output)
        : DatabaseDownApiTests(fixture.Host, output), IClassFixture<HostWith<ServerHost, DeadDatabase>>;

    public sealed class Functions(HostWith<FunctionsHost, DeadDatabase> fixture, ITestOutputHelper output)
        : DatabaseDownApiTests(fixture.Host, output), IClassFixture<HostWith<FunctionsHost, DeadDatabase>>;

    [Fact]
    public async Task Health_and_hold_answer_503_with_retry_after_within_a_second_when_the_database_is_unreachable()
    {
        using var client = Host.NewClient(Host.Tokens.Issue(Guid.NewGuid(), "guest").AccessToken);
        // Attempt 0 warms the host up (a new worker compiles its error paths first); the later ones are timed.
        foreach (var attempt in Enumerable.Range(0, 4))
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            using var health = await client.GetAsync("health");
            using var hold = await client.PostAsJsonAsync("reservations/hold", new { eventId = Guid.NewGuid(), quantity = 1 });
            using var guest = await client.PostAsync("auth/guest", null);
            clock.Stop();

            foreach (var response in new[] { health, hold, guest })
            {
                await ProblemAssert.IsProblemAsync(response, 503, ProblemCodes.DatabaseUnavailable);
                Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero, "503 without Retry-After");
            }
            Assert.True(attempt == 0 || clock.Elapsed < TimeSpan.FromSeconds(3), $"three requests took {clock.Elapsed} (attempt {attempt})");
        }
    }
}
