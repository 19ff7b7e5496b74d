using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Tickets.Api;

namespace Tickets.Tests;

public sealed class OperationsApiTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task Health_reports_the_database_and_live_answers_without_it()
    {
        Assert.Equal(new HealthResponse("ok", "ok"), await server.Client.GetFromJsonAsync<HealthResponse>("health"));
        using var live = await server.Client.GetAsync("health/live");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
    }

    [Fact]
    public async Task The_openapi_document_describes_every_route_of_the_table_and_nothing_else()
    {
        using var response = await server.Client.GetAsync("openapi.json");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.StartsWith("3.", document.RootElement.GetProperty("openapi").GetString(), StringComparison.Ordinal);

        var documented = document.RootElement.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject().Select(op =>
                (Name: op.Value.GetProperty("operationId").GetString(), Method: op.Name.ToUpperInvariant(), Template: path.Name.TrimStart('/'))))
            .OrderBy(x => x.Name, StringComparer.Ordinal).ToList();
        var routes = ApiRoutes.All.Select(r => ((string?)r.Name, r.Method, r.Template)).OrderBy(x => x.Item1, StringComparer.Ordinal).ToList();
        Assert.Equal(routes, documented);
    }

    [Fact]
    public async Task The_docs_page_is_self_contained_and_documents_every_problem_code()
    {
        using var response = await server.Client.GetAsync("docs");
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var html = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal);
        var codes = typeof(ProblemCodes).GetFields().Select(f => (string)f.GetRawConstantValue()!).ToList();
        Assert.NotEmpty(codes);
        Assert.All(codes, code => Assert.Contains($"id=\"problem-{code}\"", html, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Unknown_routes_and_methods_answer_with_problem_documents()
    {
        using var missing = await server.Client.GetAsync("no-such-thing");
        await ProblemAssert.IsProblemAsync(missing, 404, ProblemCodes.NotFound);
        using var method = await server.Client.PutAsync("events", null);
        await ProblemAssert.IsProblemAsync(method, 405, ProblemCodes.MethodNotAllowed);
    }
}

/// <summary>A server whose database does not exist on the network: every database call must fail fast as 503.</summary>
public sealed class DeadDatabaseFixture : IAsyncLifetime
{
    private readonly ServerFixture _server = new();
    public ServerFixture Server => _server;

    public Task InitializeAsync()
    {
        // Port 9 (discard) on loopback: nothing listens, connections are refused at once.
        _server.Settings["ConnectionStrings:Tickets"] = "Host=127.0.0.1;Port=9;Username=postgres;Database=none";
        return _server.InitializeAsync();
    }

    public Task DisposeAsync() => _server.DisposeAsync();
}

public sealed class DatabaseDownApiTests(DeadDatabaseFixture fixture) : IClassFixture<DeadDatabaseFixture>
{
    [Fact]
    public async Task Health_and_hold_answer_503_with_retry_after_within_a_second_when_the_database_is_unreachable()
    {
        var server = fixture.Server;
        var token = TokenFor(server);
        using var client = server.NewClient(token);
        foreach (var attempt in Enumerable.Range(0, 3))
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
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"three requests took {clock.Elapsed} (attempt {attempt})");
        }
    }

    private static string TokenFor(ServerFixture server) =>
        ((TokenService)server.Services.GetService(typeof(TokenService))!).Issue(Guid.NewGuid(), "guest").AccessToken;
}
