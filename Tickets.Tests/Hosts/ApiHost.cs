using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Tickets.Api;
using Tickets.Data;
using Tickets.Tests.StandInHost;

namespace Tickets.Tests;

/// <summary>
/// The API on one of its two hosts, against real PostgreSQL (a schema of its own): <see cref="ServerHost"/>
/// (Tickets.Server on Kestrel) or <see cref="FunctionsHost"/> (the built Tickets.Functions worker under the
/// stand-in Functions host). End-to-end test classes are written once against this and run on both.
/// </summary>
public abstract class ApiHost : IAsyncLifetime
{
    public const string SigningKey = "end-to-end-test-signing-key-0123456789-abcdefghijklmnopqrstuvwxyz-0123456789";
    public const string Issuer = "tickets";
    public const string Audience = "tickets-api";

    /// <summary>"Server" or "Functions", as in the test classes' names.</summary>
    public abstract string Name { get; }

    public PostgresFixture Db { get; } = new();
    public HttpClient Client { get; private set; } = null!;
    public Uri BaseAddress { get; protected set; } = null!;

    /// <summary>What the host and the app logged, in order; each test gets its share in its output.</summary>
    public HostLog Log { get; } = new();

    /// <summary>Settings a derived fixture needs (e.g. low limits, a dead database), applied over the defaults.</summary>
    public Dictionary<string, string?> Settings { get; } = new();

    /// <summary>Signs tokens with the host's key, for users made directly in the database.</summary>
    public TokenService Tokens { get; } = new(Options.Create(new JwtOptions { SigningKey = SigningKey, Issuer = Issuer, Audience = Audience }), TimeProvider.System);

    /// <summary>The engine on the host's database, for what a test does behind the API's back (a sweep).</summary>
    public ReservationEngine Engine => new(Db.Database, NullLogger<ReservationEngine>.Instance);

    public async Task InitializeAsync()
    {
        await Db.InitializeAsync();
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Tickets"] = Db.ConnectionString,
            ["Jwt:SigningKey"] = SigningKey,
            ["Jwt:Issuer"] = Issuer,
            ["Jwt:Audience"] = Audience,
            // Many users from one address in one second, holding as many seats as a test needs: the limits and
            // defaults against abuse get their own tests (AbuseLimitsApiTests).
            ["RateLimits:AuthPerClientPerMinute"] = "0",
            ["RateLimits:WritesPerUserPerSecond"] = "0",
            ["RateLimits:HoldsPerClientPerMinute"] = "0",
            ["RateLimits:MaxHeldSeatsPerUser"] = "0",
            ["Tickets:DefaultMaxTicketsPerUser"] = "0",
            ["Tickets:PreparedStatements"] = PostgresFixture.PreparedStatements.ToString(),
        };
        foreach (var (key, value) in Settings)
        {
            settings[key] = value;
        }
        await StartAsync(settings);
        Client = NewClient();
        await WarmUpAsync();
    }

    /// <summary>
    /// As a readiness probe would: the first requests of a new process compile its paths and open the first
    /// database connection, which on this shared machine can outlast the health check's one-second bound.
    /// </summary>
    private async Task WarmUpAsync()
    {
        using (var live = await Client.GetAsync("health/live"))
        {
            live.EnsureSuccessStatusCode();
        }
        for (var attempt = 0; attempt < 5; attempt++)
        {
            using var health = await Client.GetAsync("health");
            if (health.IsSuccessStatusCode)
            {
                return;
            }
        }
    }

    protected abstract Task StartAsync(IReadOnlyDictionary<string, string?> settings);

    protected abstract Task StopAsync();

    /// <summary>
    /// Lets the expired-hold timer fire: the server's ticks every second by itself; the Functions worker's is
    /// invoked through the stand-in host, as the real host does on the schedule.
    /// </summary>
    public abstract Task FireSweepTimerAsync();

    /// <summary>A client of its own; with <paramref name="from"/> its connections come from that loopback address.</summary>
    public HttpClient NewClient(string? token = null, IPAddress? from = null)
    {
        var handler = new SocketsHttpHandler();
        if (from is not null)
        {
            handler.ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(from, 0));
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
        }
        var client = new HttpClient(handler) { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        return client;
    }

    public async Task DisposeAsync()
    {
        Client?.Dispose();
        await StopAsync();
        await Db.DisposeAsync();
    }

    public async Task<string> GuestTokenAsync()
    {
        using var response = await Client.PostAsync("auth/guest", null);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<IssuedToken>())!.AccessToken;
    }

    public async Task<(Guid Id, string Token)> UserAsync()
    {
        var email = $"{Guid.NewGuid():N}@example.test";
        using var register = await Client.PostAsJsonAsync("auth/register", new { email, password = "correct horse" });
        Assert.Equal(HttpStatusCode.Created, register.StatusCode);
        var user = await register.Content.ReadFromJsonAsync<UserResponse>();
        using var token = await Client.PostAsJsonAsync("auth/token", new { email, password = "correct horse" });
        Assert.Equal(HttpStatusCode.OK, token.StatusCode);
        return (user!.Id, (await token.Content.ReadFromJsonAsync<IssuedToken>())!.AccessToken);
    }

    public async Task<string> AdminTokenAsync()
    {
        // Made in the database and signed with the host's key, as sign-in would: tests with low per-client auth
        // limits need their few sign-ins for themselves.
        var email = $"admin-{Guid.NewGuid():N}@example.test";
        var admin = await new UserStore(Db.Database).UpsertAdminAsync(email, PasswordHasher.Hash("admin password"), CancellationToken.None);
        return Tokens.Issue(admin.Id, Roles.Admin).AccessToken;
    }

    public async Task<EventResponse> CreateEventAsync(string adminToken, object body)
    {
        using var client = NewClient(adminToken);
        using var response = await client.PostAsJsonAsync("events", body);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<EventResponse>())!;
    }

    public async Task<EventResponse> GetEventAsync(Guid id) => (await Client.GetFromJsonAsync<EventResponse>($"events/{id}"))!;

    public override string ToString() => Name;
}

/// <summary>
/// Base of the end-to-end test classes: each is written once against <see cref="Host"/> and declares two nested
/// classes, <c>Server</c> and <c>Functions</c>, so every test runs on both hosts with the host in its name. What
/// the host logged during a test is written to that test's output.
/// </summary>
public abstract class HostTests(ApiHost host, ITestOutputHelper output) : IDisposable
{
    private readonly int _logStart = host.Log.Count;

    protected ApiHost Host { get; } = host;

    public void Dispose()
    {
        var logged = Host.Log.Since(_logStart);
        if (logged.Length > 0)
        {
            output.WriteLine($"{Host.Name} host log during this test:\n{(logged.Length > 20_000 ? "…" + logged[^20_000..] : logged)}");
        }
        GC.SuppressFinalize(this);
    }
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

/// <summary>Settings a test class's host runs with, over the defaults (low limits, a dead database, …).</summary>
public interface IHostSettings
{
    static abstract IReadOnlyDictionary<string, string> Settings { get; }
}

/// <summary>The class fixture of a host of type <typeparamref name="THost"/> with <typeparamref name="TSettings"/>.</summary>
public sealed class HostWith<THost, TSettings> : IAsyncLifetime where THost : ApiHost, new() where TSettings : IHostSettings
{
    public THost Host { get; } = new();

    public Task InitializeAsync()
    {
        foreach (var (key, value) in TSettings.Settings)
        {
            Host.Settings[key] = value;
        }
        return Host.InitializeAsync();
    }

    public Task DisposeAsync() => Host.DisposeAsync();
}
