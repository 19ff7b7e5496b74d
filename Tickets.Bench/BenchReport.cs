// Runs the load phases (closed loop: N connections, each sending its next request when the last answers),
// checks the invariant after each, and prints the table, the goal ratios and the JSON.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Dapper;
using Npgsql;

namespace Tickets.Bench;

internal sealed record PhaseResult(string Name, string Description, int Connections, long Requests, double Seconds, double PerSecond,
    double P50Ms, double P90Ms, double P99Ms, double MaxMs, SortedDictionary<int, long> Statuses, double CpuBench, double CpuServer, double CpuPostgres);

internal sealed record SweepFigures(int Holds, double Seconds, double HoldsPerSecond);

internal sealed class BenchReport(BenchSettings settings)
{

    /// <summary>The server under test in the current phases.</summary>
    public Uri? BaseAddress { get; set; }

    public int ServerPid { get; set; }

    public List<PhaseResult> Phases { get; } = [];
    public SortedDictionary<int, double> Pgbench { get; } = [];
    public Dictionary<string, double> PeakRssMb { get; } = [];
    public SweepFigures? Sweep { get; set; }
    public List<string> Failures { get; } = [];
    public List<(string Goal, double Value, string Target, bool Met)> Goals { get; } = [];

    public async Task RunAsync(string name, string description, int connections, BenchOperation operation, NpgsqlDataSource dataSource, Task? until = null)
    {
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = connections, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5) };
        using var client = new HttpClient(handler) { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        // Warm-up: open the connections and let the server's tiered JIT reach its optimized code; not measured.
        await Drive(client, connections, operation, Task.Delay(settings.WarmUp), record: false);
        var cpuBefore = CpuSample.Take(ServerPid);
        var (latencies, statuses, seconds) = await Drive(client, connections, operation, until ?? Task.Delay(settings.Duration), record: true);
        // Share of the machine's cores each process used during the measured part.
        var cpu = CpuSample.Take(ServerPid) - cpuBefore;
        double Share(double cpuSeconds) => 100 * cpuSeconds / seconds / Environment.ProcessorCount;

        latencies.Sort();
        double Percentile(double p) => latencies.Count == 0 ? double.NaN
            : latencies[Math.Min(latencies.Count - 1, (int)Math.Ceiling(p * latencies.Count) - 1)] * 1000.0 / Stopwatch.Frequency;
        var result = new PhaseResult(name, description, connections, latencies.Count, seconds, latencies.Count / seconds,
            Percentile(0.50), Percentile(0.90), Percentile(0.99), Percentile(1.0), statuses,
            Share(cpu.Bench), Share(cpu.Server), Share(cpu.Postgres));
        Phases.Add(result);
        Console.WriteLine($"{name,-16} {result.PerSecond,10:N0} req/s  p50 {result.P50Ms,7:N1} ms  p99 {result.P99Ms,7:N1} ms  " +
            $"cpu load/server/pg {result.CpuBench:N0}/{result.CpuServer:N0}/{result.CpuPostgres:N0}%  {Statuses(statuses)}");
        if (statuses.Keys.Any(s => s is 500 or 0))
        {
            Failures.Add($"{name}: {Statuses(statuses)} (a 500 or a failed request)");
        }
        await CheckInvariantAsync(name, dataSource);
    }

    private static async Task<(List<long> Latencies, SortedDictionary<int, long> Statuses, double Seconds)> Drive(
        HttpClient client, int connections, BenchOperation operation, Task stop, bool record)
    {
        using var cancel = new CancellationTokenSource();
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, connections).Select(worker => Task.Run(async () =>
        {
            var latencies = new List<long>(4096);
            var statuses = new Dictionary<int, long>();
            while (!stop.IsCompleted)
            {
                var started = Stopwatch.GetTimestamp();
                int status;
                try
                {
                    status = await operation(client, worker, CancellationToken.None);
                }
                catch (HttpRequestException)
                {
                    status = 0;
                }
                if (status < 0)
                {
                    break; // this connection ran out of work (confirms)
                }
                if (record)
                {
                    latencies.Add(Stopwatch.GetTimestamp() - started);
                    statuses[status] = statuses.GetValueOrDefault(status) + 1;
                }
            }
            return (latencies, statuses, Elapsed: clock.Elapsed.TotalSeconds);
        })).ToList();
        var done = await Task.WhenAll(workers);
        var all = new List<long>(done.Sum(d => d.latencies.Count));
        var merged = new SortedDictionary<int, long>();
        foreach (var (latencies, statuses, _) in done)
        {
            all.AddRange(latencies);
            foreach (var (status, count) in statuses)
            {
                merged[status] = merged.GetValueOrDefault(status) + count;
            }
        }
        return (all, merged, done.Max(d => d.Elapsed));
    }

    /// <summary>The invariant, against the rows (see <see cref="Tickets.Data.Invariant"/>).</summary>
    public async Task CheckInvariantAsync(string phase, NpgsqlDataSource dataSource)
    {
        var broken = await Tickets.Data.Invariant.BrokenEventsAsync(dataSource, CancellationToken.None);
        if (broken.Count > 0)
        {
            Failures.Add($"{phase}: invariant broken on {broken.Count} events");
        }
    }

    private PhaseResult? Find(string name) => Phases.FirstOrDefault(p => p.Name == name);

    private void Goal(string goal, double value, string target, bool met)
    {
        // A phase left out with --phases leaves its goals unmeasured, not failed.
        if (!double.IsNaN(value))
        {
            Goals.Add((goal, value, target, met));
        }
    }

    public void Print()
    {
        var low = settings.Connections.Min();
        var high = settings.Connections.Max();
        double Rate(string name) => Find(name)?.PerSecond ?? double.NaN;
        var bestBatched = settings.Connections.Select(c => Rate($"hold batched {c}")).Max();
        if (Pgbench.Count > 0)
        {
            Goal($"batched hot holds/s ÷ pgbench single-row best", bestBatched / Pgbench.Values.Max(), "≥ 5", bestBatched / Pgbench.Values.Max() >= 5);
        }
        Goal($"batched ÷ Direct hot holds/s at {low}", Rate($"hold batched {low}") / Rate($"hold direct {low}"), "≥ 30",
            Rate($"hold batched {low}") / Rate($"hold direct {low}") >= 30);
        Goal($"batched hot holds/s ÷ /health/live at {high}", Rate($"hold batched {high}") / Rate($"live {high}"), "≥ 0.35",
            Rate($"hold batched {high}") / Rate($"live {high}") >= 0.35);
        var p99 = Find($"hold batched {high}")?.P99Ms ?? double.NaN;
        Goal($"p99 batched hold latency at {high} (ms)", p99, "≤ 50", p99 <= 50);
        Goal($"batched hot holds/s at {high} ÷ best", Rate($"hold batched {high}") / bestBatched, "≥ 0.9", Rate($"hold batched {high}") / bestBatched >= 0.9);
        Goal($"confirms/s ÷ batched holds/s at {low}", Rate($"confirm {low}") / Rate($"hold batched {low}"), "≥ 0.5",
            Rate($"confirm {low}") / Rate($"hold batched {low}") >= 0.5);
        Goal($"holds/s during sweep ÷ without, at {low}", Rate($"hold+sweep {low}") / Rate($"hold batched {low}"), "≥ 0.8",
            Rate($"hold+sweep {low}") / Rate($"hold batched {low}") >= 0.8);
        var rss = PeakRssMb.GetValueOrDefault("Batched", double.NaN);
        Goal("server peak RSS, batched run (MB)", rss, "≤ 400", rss <= 400);

        var text = new StringBuilder();
        text.AppendLine();
        text.AppendLine("| phase | what | conns | req/s | p50 ms | p90 ms | p99 ms | max ms | CPU load gen / server / PostgreSQL | statuses |");
        text.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---|---|");
        foreach (var p in Phases)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {p.Name} | {p.Description} | {p.Connections} | {p.PerSecond:N0} | {p.P50Ms:N1} | {p.P90Ms:N1} | {p.P99Ms:N1} | {p.MaxMs:N1} | {p.CpuBench:N0}% / {p.CpuServer:N0}% / {p.CpuPostgres:N0}% | {Statuses(p.Statuses)} |");
        }
        foreach (var (clients, tps) in Pgbench)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| pgbench {clients} | one conditional single-row UPDATE per transaction | {clients} | {tps:N0} | | | | | | |");
        }
        text.AppendLine();
        text.AppendLine("Latencies are closed-loop (each connection waits for its answer before the next request).");
        text.AppendLine(CultureInfo.InvariantCulture, $"CPU is the share of all {Environment.ProcessorCount} cores used by the load generator, the server and PostgreSQL during the phase.");
        if (Sweep is { } sweep)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"Sweeper (one, as in production; the server's timer is off for the run): released {sweep.Holds:N0} expired holds in {sweep.Seconds:N1} s ({sweep.HoldsPerSecond:N0}/s) while holds continued.");
        }
        text.AppendLine(CultureInfo.InvariantCulture, $"Server peak RSS: {string.Join(", ", PeakRssMb.Select(kv => $"{kv.Key} {kv.Value:N0} MB"))}");
        text.AppendLine();
        text.AppendLine("| goal | measured | target | met |");
        text.AppendLine("|---|---:|---|---|");
        foreach (var (goal, value, target, met) in Goals)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {goal} | {value:N2} | {target} | {(met ? "yes" : "NO")} |");
        }
        text.AppendLine();
        text.AppendLine(Failures.Count == 0
            ? "Checks: invariant intact after every phase, no oversell, no 500s, no failed requests."
            : "CHECKS FAILED:\n  " + string.Join("\n  ", Failures));
        Console.WriteLine(text);
    }

    public string ToJson() => JsonSerializer.Serialize(new
    {
        machine = new { cores = Environment.ProcessorCount, os = System.Runtime.InteropServices.RuntimeInformation.OSDescription },
        secondsPerPhase = settings.Duration.TotalSeconds,
        warmUpSecondsPerPhase = settings.WarmUp.TotalSeconds,
        phases = Phases,
        pgbench = Pgbench,
        sweep = Sweep,
        peakRssMb = PeakRssMb,
        goals = Goals.Select(g => new { g.Goal, g.Value, g.Target, g.Met }),
        failures = Failures,
    }, new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals });

    private static string Statuses(SortedDictionary<int, long> statuses) =>
        string.Join(" ", statuses.Select(kv => $"{(kv.Key == 0 ? "error" : kv.Key.ToString(CultureInfo.InvariantCulture))}×{kv.Value}"));
}
