// Start-up cost, as a consumption plan pays it on every cold start: from starting a process to its first 200 of
// /api/health/live and its first 201 hold, for Tickets.Server and for the Functions worker under the stand-in
// Functions host (the real host's own start is not in the figure: it is not available here).
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Tickets.Api;
using Tickets.Data;
using Tickets.Tests.StandInHost;

namespace Tickets.Bench;

internal sealed record StartupFigures(string Host, string Build, double[] LiveMs, double[] HoldMs)
{
    /// <summary>Functions only: from starting the worker to every function loaded (the protocol's handshake).</summary>
    public double[] LoadedMs { get; } = new double[LiveMs.Length];
    public double MedianLoadedMs => Median(LoadedMs);
    public double MedianLiveMs => Median(LiveMs);
    public double MedianHoldMs => Median(HoldMs);

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN
            : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}

/// <summary>A Functions worker to start: its folder (build or publish output) and settings of the runtime tried with it.</summary>
internal sealed record WorkerBuild(string Name, string Directory, IReadOnlyDictionary<string, string> Environment);

internal static class StartupPhase
{
    private const string SigningKey = "benchmark-only-signing-key-0123456789-abcdefghijklmnopqrstuvwxyz";

    /// <summary>
    /// Measures <paramref name="starts"/> starts of each host, alternating, against an event made up front, each
    /// start's hold by a buyer of its own (the shipped cap on live holds per buyer stays on).
    /// </summary>
    public static async Task<List<StartupFigures>> RunAsync(string root, string connectionString, NpgsqlDataSource dataSource, int starts,
        IReadOnlyList<WorkerBuild> functionsBuilds)
    {
        var database = new Database(dataSource, NullLogger<Database>.Instance);
        var ev = await new EventStore(database).CreateAsync(new NewEvent("Start-up", 10_000_000), CancellationToken.None);
        var tokens = new TokenService(Options.Create(new JwtOptions { SigningKey = SigningKey }), TimeProvider.System);
        var users = new UserStore(database);
        async Task<string> BuyerAsync() => tokens.Issue((await users.CreateAsync(null, null, Roles.Guest, CancellationToken.None))!.Id, Roles.Guest).AccessToken;
        var settings = new Dictionary<string, string>
        {
            ["ConnectionStrings__Tickets"] = connectionString,
            ["Jwt__SigningKey"] = SigningKey,
            ["Logging__LogLevel__Default"] = "Warning",
            ["RateLimits__WritesPerUserPerSecond"] = "0",
        };
        var server = new StartupFigures("Tickets.Server", "Release build", new double[starts], new double[starts]);
        var functions = functionsBuilds.Select(b => new StartupFigures("Functions worker", b.Name, new double[starts], new double[starts])).ToList();
        for (var i = 0; i < starts; i++)
        {
            (server.LiveMs[i], server.HoldMs[i]) = await StartServerAsync(root, settings, ev.Id, await BuyerAsync());
            foreach (var (build, figures) in functionsBuilds.Zip(functions))
            {
                var workerSettings = new Dictionary<string, string>(settings);
                foreach (var (key, value) in build.Environment)
                {
                    workerSettings[key] = value;
                }
                (figures.LoadedMs[i], figures.LiveMs[i], figures.HoldMs[i]) = await StartWorkerAsync(build.Directory, workerSettings, ev.Id, await BuyerAsync());
            }
            var workers = string.Join(", ", functions.Select(f => string.Create(CultureInfo.InvariantCulture, $"worker ({f.Build}) {f.LiveMs[i]:N0}/{f.HoldMs[i]:N0} ms")));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"start {i + 1}/{starts}: server {server.LiveMs[i]:N0}/{server.HoldMs[i]:N0} ms, {workers} (first live 200 / first hold 201)"));
        }
        return [server, .. functions];
    }

    private static async Task<(double Live, double Hold)> StartServerAsync(string root, Dictionary<string, string> settings, Guid eventId, string token)
    {
        var dll = Path.Combine(root, "Tickets.Server", "bin", "Release", "net10.0", "Tickets.Server.dll");
        var url = "http://127.0.0.1:7183";
        var start = new ProcessStartInfo("dotnet", [dll, "--urls", url])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (key, value) in settings)
        {
            start.Environment[key] = value;
        }
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var elapsed = () => clock.Elapsed;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { Console.Error.WriteLine($"[server] {e.Data}"); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            return await FirstAnswersAsync(new Uri(url + "/api/"), elapsed, eventId, token);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    private static async Task<(double Loaded, double Live, double Hold)> StartWorkerAsync(string appDirectory, Dictionary<string, string> settings, Guid eventId, string token)
    {
        var log = new HostLog();
        var workerSettings = new Dictionary<string, string>(settings) { ["AZURE_FUNCTIONS_ENVIRONMENT"] = "Production" };
        await using var host = await StandInFunctionsHost.StartAsync(appDirectory, workerSettings, ApiRoutes.Prefix, log);
        try
        {
            // From the moment the worker process was started: the host's own start is not this app's to cut.
            var (live, hold) = await FirstAnswersAsync(host.BaseAddress, () => Stopwatch.GetElapsedTime(host.WorkerStartedAt), eventId, token);
            return (host.StartupTime.TotalMilliseconds, live, hold);
        }
        catch
        {
            Console.Error.WriteLine(log);
            throw;
        }
    }

    /// <summary>Polls /api/health/live until it answers 200, then sends one hold: both times as <paramref name="elapsed"/> tells.</summary>
    private static async Task<(double Live, double Hold)> FirstAnswersAsync(Uri baseAddress, Func<TimeSpan> elapsed, Guid eventId, string token)
    {
        using var client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
        double live = 0;
        while (live == 0)
        {
            try
            {
                using var response = await client.GetAsync("health/live");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    live = elapsed().TotalMilliseconds;
                }
            }
            catch (HttpRequestException) when (elapsed() < TimeSpan.FromSeconds(60))
            {
                await Task.Delay(2);
            }
        }
        using var hold = new HttpRequestMessage(HttpMethod.Post, "reservations/hold") { Content = JsonContent.Create(new { eventId, quantity = 1 }) };
        hold.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var held = await client.SendAsync(hold);
        if (held.StatusCode != HttpStatusCode.Created)
        {
            throw new InvalidOperationException($"The first hold answered {(int)held.StatusCode}: {await held.Content.ReadAsStringAsync()}");
        }
        return (live, elapsed().TotalMilliseconds);
    }

    public static string Table(IEnumerable<StartupFigures> figures)
    {
        var text = new StringBuilder();
        text.AppendLine("| host | build | starts | functions loaded, median ms | first live 200, median ms | max ms | first hold 201, median ms | max ms |");
        text.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|");
        foreach (var f in figures)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {f.Host} | {f.Build} | {f.LiveMs.Length} | {(f.Host == "Tickets.Server" ? "" : f.MedianLoadedMs.ToString("N0", CultureInfo.InvariantCulture))} | {f.MedianLiveMs:N0} | {f.LiveMs.Max():N0} | {f.MedianHoldMs:N0} | {f.HoldMs.Max():N0} |");
        }
        return text.ToString();
    }
}
