// What only the Functions worker has: the protocol facts the stand-in host relies on (a canary for worker package
// upgrades), the expiry timer invoked through the host, and the fence that keeps workers from outliving tests.
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Tickets.Api;
using Tickets.Data;
using Tickets.Tests.StandInHost;
using Tickets.Tests.StandInHost.Rpc;

namespace Tickets.Tests;

/// <summary>
/// Fails loudly when an upgrade of the worker packages changes what the stand-in host relies on: the
/// capabilities the worker advertises, its HttpUri, and the shape of the metadata it indexes itself.
/// </summary>
public sealed class FunctionsProtocolCanaryTests(FunctionsHost host) : IClassFixture<FunctionsHost>
{
    [Fact]
    public void The_worker_advertises_the_capabilities_the_stand_in_host_relies_on()
    {
        var capabilities = host.StandIn.WorkerCapabilities;
        Assert.True(Uri.TryCreate(capabilities.GetValueOrDefault("HttpUri"), UriKind.Absolute, out var httpUri),
            $"No absolute HttpUri among {string.Join(", ", capabilities.Keys)}: the host could not proxy HTTP to the worker.");
        Assert.Equal(("http", true), (httpUri.Scheme, httpUri.IsLoopback));
        // Without these the host would send the request inside the invocation (RpcHttp), or kill the worker
        // instead of asking it to stop.
        Assert.Equal("true", capabilities.GetValueOrDefault("RpcHttpTriggerMetadataRemoved")?.ToLowerInvariant());
        Assert.Equal("true", capabilities.GetValueOrDefault("HandlesWorkerTerminateMessage")?.ToLowerInvariant());
    }

    [Fact]
    public void The_worker_indexes_every_function_of_functions_metadata_with_raw_bindings_the_host_can_route_by()
    {
        var functions = host.StandIn.Functions;
        using var built = JsonDocument.Parse(File.ReadAllText(Path.Combine(FunctionsBuild.OutputDirectory, "functions.metadata")));
        Assert.Equal(
            built.RootElement.EnumerateArray().Select(f => f.GetProperty("name").GetString()!).Order(StringComparer.Ordinal),
            functions.Select(f => f.Name).Order(StringComparer.Ordinal));
        Assert.All(functions, f =>
        {
            Assert.False(string.IsNullOrEmpty(f.FunctionId), $"{f.Name} has no function id");
            Assert.NotEmpty(f.RawBindings);
            using var trigger = JsonDocument.Parse(f.RawBindings[0]);
            Assert.Equal("In", trigger.RootElement.GetProperty("direction").GetString(), StringComparer.OrdinalIgnoreCase);
            Assert.False(string.IsNullOrEmpty(trigger.RootElement.GetProperty("name").GetString()));
        });
        foreach (var route in ApiRoutes.All)
        {
            var function = Assert.Single(functions, f => f.Name == route.Name);
            using var trigger = JsonDocument.Parse(function.RawBindings[0]);
            Assert.Equal("httpTrigger", trigger.RootElement.GetProperty("type").GetString());
            Assert.Equal(route.Template, trigger.RootElement.GetProperty("route").GetString());
            Assert.Equal(ApiRoutes.MethodsOf(route), trigger.RootElement.GetProperty("methods").EnumerateArray().Select(m => m.GetString()!.ToUpperInvariant()));
        }
        var timer = Assert.Single(functions, f => f.Name == "ReleaseExpiredHolds");
        var binding = Assert.Single(timer.Bindings);
        Assert.Equal(("timer", "timerTrigger"), (binding.Key, binding.Value.Type));
    }
}

/// <summary>The Functions worker on a PostgreSQL cluster of its own, which a test stops and starts again.</summary>
public sealed class StoppableDatabaseFixture : IAsyncLifetime
{
    public PrivateCluster Cluster { get; private set; } = null!;
    public FunctionsHost Host { get; } = new();
    public NpgsqlDataSource DataSource { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Cluster = await PrivateCluster.StartAsync("timer", "tickets_timer");
        DataSource = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(Cluster.ConnectionString) { Timeout = 2 }.ConnectionString);
        Host.Settings["ConnectionStrings:Tickets"] = Cluster.ConnectionString;
        await Host.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        await DataSource.DisposeAsync();
        await Cluster.DisposeAsync();
    }
}

public sealed class FunctionsTimerTests(StoppableDatabaseFixture fixture, ITestOutputHelper output)
    : HostTests(fixture.Host, output), IClassFixture<StoppableDatabaseFixture>
{
    [Fact]
    public async Task The_timer_invoked_through_the_host_fails_and_logs_while_the_database_is_down_and_releases_the_hold_once_it_is_back()
    {
        var database = new Database(fixture.DataSource, NullLogger<Database>.Instance);
        var ev = await new EventStore(database).CreateAsync(new NewEvent($"Timer {Guid.NewGuid():N}", 5), CancellationToken.None);
        using var buyer = Host.NewClient(await Host.GuestTokenAsync());
        using var hold = await buyer.PostAsJsonAsync("reservations/hold", new { eventId = ev.Id, quantity = 2 });
        var held = (await hold.Content.ReadFromJsonAsync<ReservationResponse>())!;
        await using (var connection = await fixture.DataSource.OpenConnectionAsync())
        {
            await connection.ExecuteAsync("update reservations set expires_at = now() - interval '1 second' where id = @Id", new { held.Id });
        }

        await fixture.Cluster.Postgres.StopAsync("immediate");
        var logStart = Host.Log.Count;
        var failed = await fixture.Host.StandIn.InvokeTimerAsync("ReleaseExpiredHolds");
        Assert.Equal(StatusResult.Types.Status.Failure, failed.Status);
        Assert.Contains("Npgsql", failed.Exception?.Message + Host.Log.Since(logStart), StringComparison.Ordinal);

        await fixture.Cluster.Postgres.StartAgainAsync();
        // The next run succeeds; the circuit breaker may still be open for a moment after the failure.
        var clock = Stopwatch.StartNew();
        StatusResult next;
        do
        {
            next = await fixture.Host.StandIn.InvokeTimerAsync("ReleaseExpiredHolds");
        }
        while (next.Status != StatusResult.Types.Status.Success && clock.Elapsed < TimeSpan.FromSeconds(15) && await Delay());
        Assert.True(next.Status == StatusResult.Types.Status.Success, $"still failing: {next.Exception?.Message}");

        var after = (await Host.Client.GetFromJsonAsync<EventResponse>($"events/{ev.Id}"))!;
        Assert.Equal((5, 0), (after.Available, after.Held));
        var reservation = (await buyer.GetFromJsonAsync<ReservationResponse>($"reservations/{held.Id}"))!;
        Assert.Equal(ReservationStatus.Expired, reservation.Status);

        static async Task<bool> Delay()
        {
            await Task.Delay(500);
            return true;
        }
    }
}

public sealed class FunctionsWorkerFenceTests
{
    [Fact]
    public async Task A_worker_dies_with_the_thread_that_started_it_so_a_killed_test_process_leaves_no_worker_behind()
    {
        var log = new HostLog();
        await using var host = await StandInFunctionsHost.StartAsync(FunctionsBuild.OutputDirectory, new Dictionary<string, string>
        {
            ["ConnectionStrings:Tickets"] = "Host=127.0.0.1;Port=9;Username=postgres;Database=none",
            ["Jwt:SigningKey"] = ApiHost.SigningKey,
        }, ApiRoutes.Prefix, log);
        using var worker = Process.GetProcessById(host.WorkerProcessId);

        // What the kernel does when the test process dies, even by SIGKILL: the thread that started the worker ends.
        host.ReleaseWorkerOwner();

        Assert.True(worker.WaitForExit(TimeSpan.FromSeconds(10)), $"the worker outlived its owner\n{log}");
    }
}
