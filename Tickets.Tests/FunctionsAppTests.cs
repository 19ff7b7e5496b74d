using System.Text.Json;
using NCrontab;
using Tickets.Api;
using Tickets.Tests.StandInHost;

namespace Tickets.Tests;

/// <summary>
/// Tickets.Functions is built for real with the Azure Functions worker SDK; the SDK writes functions.metadata,
/// which is what the Functions host reads to register triggers. These tests compare it with the declaration of the
/// API (ApiRoutes.All: each operation's name, methods and route) that the local server maps, so the two hosts
/// cannot drift apart. (The worker itself runs under the stand-in host: StandInHost/.)
/// </summary>
public sealed class FunctionsAppTests
{
    private static readonly Lazy<JsonElement[]> Metadata = new(BuildAndReadMetadata);

    [Fact]
    public void Every_http_function_is_a_declared_operation_with_its_name_methods_and_route()
    {
        var functions = Metadata.Value
            .Select(f => (Name: f.GetProperty("name").GetString()!, Trigger: f.GetProperty("bindings").EnumerateArray().First(b => b.GetProperty("direction").GetString() == "In")))
            .Where(f => f.Trigger.GetProperty("type").GetString() == "httpTrigger")
            .Select(f => (f.Name, Methods: string.Join(',', f.Trigger.GetProperty("methods").EnumerateArray().Select(m => m.GetString()!.ToUpperInvariant()).Order(StringComparer.Ordinal)),
                Route: f.Trigger.GetProperty("route").GetString()!, Auth: f.Trigger.GetProperty("authLevel").GetString()))
            .OrderBy(f => f.Name, StringComparer.Ordinal).ToList();
        var table = ApiRoutes.All.Select(r => (r.Name, Methods: string.Join(',', ApiRoutes.MethodsOf(r).Order(StringComparer.Ordinal)), Route: r.Template, Auth: (string?)"Anonymous"))
            .OrderBy(r => r.Name, StringComparer.Ordinal).ToList();

        Assert.Equal(table, functions);
    }

    [Fact]
    public void The_expiry_timer_runs_ReleaseExpiredHolds_every_minute()
    {
        var timer = Assert.Single(Metadata.Value, f => f.GetProperty("bindings").EnumerateArray().Any(b => b.GetProperty("type").GetString() == "timerTrigger"));
        Assert.Equal("ReleaseExpiredHolds", timer.GetProperty("name").GetString());
        var schedule = timer.GetProperty("bindings").EnumerateArray().Single(b => b.GetProperty("type").GetString() == "timerTrigger").GetProperty("schedule").GetString()!;
        Assert.Equal(ApiRoutes.ReleaseExpiredHoldsSchedule, schedule);

        var cron = CrontabSchedule.Parse(schedule, new CrontabSchedule.ParseOptions { IncludingSeconds = true });
        var start = new DateTime(2026, 1, 1, 10, 0, 30, DateTimeKind.Utc);
        var ticks = cron.GetNextOccurrences(start, start.AddMinutes(5)).ToList();
        Assert.Equal(5, ticks.Count);
        Assert.All(ticks.Zip(ticks.Skip(1)), pair => Assert.Equal(TimeSpan.FromMinutes(1), pair.Second - pair.First));
        Assert.All(ticks, t => Assert.Equal(0, t.Second));
    }

    [Fact]
    public void Host_json_serves_the_api_under_the_same_prefix_as_the_server()
    {
        using var host = JsonDocument.Parse(File.ReadAllText(Path.Combine(Repository.Root, "host.json")));
        Assert.Equal("2.0", host.RootElement.GetProperty("version").GetString());
        Assert.Equal(ApiRoutes.Prefix, host.RootElement.GetProperty("extensions").GetProperty("http").GetProperty("routePrefix").GetString());
    }

    private static JsonElement[] BuildAndReadMetadata()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(FunctionsBuild.OutputDirectory, "functions.metadata")));
        return document.RootElement.EnumerateArray().Select(e => e.Clone()).ToArray();
    }
}

internal static class Repository
{
    public static string Root { get; } = Tickets.Data.LocalPostgres.FindRepositoryRoot()
        ?? throw new InvalidOperationException("Run the tests from inside the repository.");
}
