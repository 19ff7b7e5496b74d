using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tickets.Api;
using Tickets.Data;
using Tickets.Server;

namespace Tickets.Tests;

/// <summary>
/// Tickets.Server on real Kestrel (127.0.0.1, random port) against real PostgreSQL (a schema of its own), built
/// by the same ServerApp.BuildAsync the run command uses. The sweep timer ticks every second here.
/// </summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public const string SigningKey = "end-to-end-test-signing-key-0123456789-abcdefghijklmnopqrstuvwxyz-0123456789";
    public const string Issuer = "tickets";
    public const string Audience = "tickets-api";

    private WebApplication? _app;

    public PostgresFixture Db { get; } = new();
    public HttpClient Client { get; private set; } = null!;
    public Uri BaseAddress { get; private set; } = null!;
    public IServiceProvider Services => _app!.Services;

    /// <summary>Extra settings a derived fixture needs (e.g. a dead database).</summary>
    public Dictionary<string, string?> Settings { get; } = new();

    public async Task InitializeAsync()
    {
        await Db.InitializeAsync();
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Tickets"] = Db.ConnectionString,
            ["Jwt:SigningKey"] = SigningKey,
            ["Jwt:Issuer"] = Issuer,
            ["Jwt:Audience"] = Audience,
            ["Tickets:SweepSchedule"] = "* * * * * *",
            // Many users from one address in one second: the limits get their own tests (AbuseLimitsApiTests).
            ["RateLimits:AuthPerClientPerMinute"] = "0",
            ["RateLimits:HoldsPerUserPerSecond"] = "0",
        };
        foreach (var (key, value) in Settings)
        {
            settings[key] = value;
        }
        _app = await ServerApp.BuildAsync(["--urls", "http://127.0.0.1:0", "--environment", "Testing"], builder =>
        {
            builder.Configuration.AddInMemoryCollection(settings);
            builder.Logging.ClearProviders();
        });
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseAddress = new Uri(address + "/api/");
        Client = NewClient();
    }

    public HttpClient NewClient(string? token = null)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        return client;
    }

    public async Task DisposeAsync()
    {
        Client?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        await Db.DisposeAsync();
    }

    public async Task<string> GuestTokenAsync()
    {
        using var response = await Client.PostAsync("auth/guest", null);
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<IssuedToken>())!.AccessToken;
    }

    public async Task<(Guid Id, string Token)> UserAsync()
    {
        var email = $"{Guid.NewGuid():N}@example.test";
        using var register = await Client.PostAsJsonAsync("auth/register", new { email, password = "correct horse" });
        Assert.Equal(System.Net.HttpStatusCode.Created, register.StatusCode);
        var user = await register.Content.ReadFromJsonAsync<UserResponse>();
        using var token = await Client.PostAsJsonAsync("auth/token", new { email, password = "correct horse" });
        Assert.Equal(System.Net.HttpStatusCode.OK, token.StatusCode);
        return (user!.Id, (await token.Content.ReadFromJsonAsync<IssuedToken>())!.AccessToken);
    }

    public async Task<string> AdminTokenAsync()
    {
        var email = $"admin-{Guid.NewGuid():N}@example.test";
        var users = new UserStore(Db.Database);
        await users.UpsertAdminAsync(email, PasswordHasher.Hash("admin password"), CancellationToken.None);
        using var token = await Client.PostAsJsonAsync("auth/token", new { email, password = "admin password" });
        Assert.Equal(System.Net.HttpStatusCode.OK, token.StatusCode);
        return (await token.Content.ReadFromJsonAsync<IssuedToken>())!.AccessToken;
    }

    public async Task<EventResponse> CreateEventAsync(string adminToken, object body)
    {
        using var client = NewClient(adminToken);
        using var response = await client.PostAsJsonAsync("events", body);
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<EventResponse>())!;
    }

    public async Task<EventResponse> GetEventAsync(Guid id) => (await Client.GetFromJsonAsync<EventResponse>($"events/{id}"))!;
}

/// <summary>Reads and checks an RFC 9457 problem document.</summary>
public static class ProblemAssert
{
    public static async Task<JsonElement> IsProblemAsync(HttpResponseMessage response, int status, string code)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"Expected {status} {code}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement;
        Assert.Equal(status, problem.GetProperty("status").GetInt32());
        Assert.Equal(code, problem.GetProperty("code").GetString());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("title").GetString()));
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("detail").GetString()));
        Assert.Equal($"/api/docs#problem-{code}", problem.GetProperty("type").GetString());
        return problem;
    }
}
