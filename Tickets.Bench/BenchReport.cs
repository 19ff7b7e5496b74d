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
    double P50Ms, double P90Ms, double P99Ms, double MaxMs, SortedDictionary<int, long> Statuses, double CpuBench, double CpuServer, double CpuPostgres,
    double CpuMicrosPerRequestBench, double CpuMicrosPerRequestServer, double CpuMicrosPerRequestPostgres, double[] RoundRates);

/// <summary>A server under test: where it listens and its process, for its CPU.</summary>
internal sealed record BenchTarget(Uri BaseAddress, int ProcessId);

internal sealed record SweepFigures(int Holds, double Seconds, double HoldsPerSecond);

internal sealed class BenchReport(BenchSettings settings, string commit)
{
    // Every visit of a phase (one per round) adds to its totals: the figures are over all rounds.
    private readonly Dictionary<string, Totals> _totals = [];

    public IEnumerable<PhaseResult> Phases => _totals.Values.Select(t => t.Result());
    public SortedDictionary<int, List<double>> Pgbench { get; } = [];
    public Dictionary<string, double> PeakRssMb { get; } = [];
    public SweepFigures? Sweep { get; set; }

    /// <summary>Tickets per request of the lines phase (its requests/s times this is its tickets/s).</summary>
    public double TicketsPerLinesHold { get; set; } = double.NaN;
    public List<StartupFigures> Startup { get; set; } = [];
    public List<BatchCostFigures> BatchCost { get; set; } = [];
    public OutboxTriggerCost? OutboxTriggers { get; set; }
    public List<DeliveryCostFigures> DeliveryCost { get; set; } = [];
    public List<InstancesFigures> Instances { get; set; } = [];
    public List<(int Connections, WebhookBacklogFigures Figures)> WebhookBacklog { get; } = [];
    public List<string> Failures { get; } = [];
    public List<WrkFigures> Wrk { get; } = [];
    public List<(string Goal, double Value, string Target, bool Met, double[] Rounds)> Goals { get; } = [];

    /// <param name="alongside">Work started when the warm-up ends; when given, the phase lasts as long as it runs.</param>
    public async Task RunAsync(string name, string description, int connections, BenchTarget target, BenchOperation operation,
        NpgsqlDataSource dataSource, Func<Task>? alongside = null)
    {
        using var client = NewClient(target, connections);
        // Warm-up, not measured: the first visit of a phase lets the server's tiered JIT reach its optimized
        // code; later rounds only open the connections and fill the pipeline again.
        var first = !_totals.ContainsKey(name);
        await Drive(client, connections, operation, Task.Delay(first ? settings.WarmUp : settings.RoundWarmUp), record: false);
        var cpuBefore = CpuSample.Take(target.ProcessId);
        var (latencies, statuses, seconds) = await Drive(client, connections, operation, alongside?.Invoke() ?? Task.Delay(settings.Duration), record: true);
        var cpu = CpuSample.Take(target.ProcessId) - cpuBefore;

        var totals = first ? _totals[name] = new Totals(name, description, connections) : _totals[name];
        totals.Add(latencies, statuses, seconds, cpu);
        Console.WriteLine($"{name,-16} round {totals.Rounds.Count}: {latencies.Count / seconds,10:N0} req/s  " +
            $"cpu load/server/pg {Share(cpu.Bench, seconds):N0}/{Share(cpu.Server, seconds):N0}/{Share(cpu.Postgres, seconds):N0}% " +
            $"({Micros(cpu.Bench, latencies.Count):N0}/{Micros(cpu.Server, latencies.Count):N0}/{Micros(cpu.Postgres, latencies.Count):N0} µs/req)  {Statuses(statuses)}");
        if (statuses.Keys.Any(s => s is 500 or 0))
        {
            Failures.Add($"{name}: {Statuses(statuses)} (a 500 or a failed request)");
        }
        await CheckInvariantAsync(name, dataSource);
    }

    /// <summary>
    /// Load on a freshly started server, not measured: under load its tiered JIT keeps recompiling hot code for
    /// about 25 s after the start (its compilation thread took a fifth of the server's CPU until then, `perf`), so
    /// the first phase measured after a 10 s warm-up of its own paid several times the CPU per request of the later
    /// rounds.
    /// </summary>
    public async Task WarmUpServerAsync(BenchTarget target, BenchOperation operation, int connections, TimeSpan duration, string? with = null)
    {
        using var client = NewClient(target, connections);
        await Drive(client, connections, operation, Task.Delay(duration), record: false);
        Console.WriteLine($"server warm-up: {duration.TotalSeconds:N0} s of holds at {connections} connections{(with is null ? "" : ", " + with)}, not measured");
    }

    private static HttpClient NewClient(BenchTarget target, int connections) =>
        new(new SocketsHttpHandler { MaxConnectionsPerServer = connections, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5) }, disposeHandler: true)
        {
            BaseAddress = target.BaseAddress,
            Timeout = TimeSpan.FromSeconds(30),
        };

    /// <summary>Share of the machine's cores a process used, in percent.</summary>
    private static double Share(double cpuSeconds, double seconds) => 100 * cpuSeconds / seconds / Environment.ProcessorCount;

    /// <summary>A process's CPU time per request, in microseconds.</summary>
    private static double Micros(double cpuSeconds, long requests) => requests == 0 ? double.NaN : cpuSeconds * 1e6 / requests;

    private sealed class Totals(string name, string description, int connections)
    {
        private readonly List<long> _latencies = [];
        private readonly SortedDictionary<int, long> _statuses = [];
        private double _seconds;
        private CpuSample _cpu;

        public List<double> Rounds { get; } = [];

        public double PerSecond => _latencies.Count / _seconds;

        public void Add(List<long> latencies, SortedDictionary<int, long> statuses, double seconds, CpuSample cpu)
        {
            _latencies.AddRange(latencies);
            foreach (var (status, count) in statuses)
            {
                _statuses[status] = _statuses.GetValueOrDefault(status) + count;
            }
            _seconds += seconds;
            _cpu += cpu;
            Rounds.Add(latencies.Count / seconds);
        }

        public PhaseResult Result()
        {
            var sorted = _latencies.Order().ToList();
            double Percentile(double p) => sorted.Count == 0 ? double.NaN
                : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)] * 1000.0 / Stopwatch.Frequency;
            return new PhaseResult(name, description, connections, sorted.Count, _seconds, sorted.Count / _seconds,
                Percentile(0.50), Percentile(0.90), Percentile(0.99), Percentile(1.0), _statuses,
                Share(_cpu.Bench, _seconds), Share(_cpu.Server, _seconds), Share(_cpu.Postgres, _seconds),
                Micros(_cpu.Bench, sorted.Count), Micros(_cpu.Server, sorted.Count), Micros(_cpu.Postgres, sorted.Count), [.. Rounds]);
        }
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

    private Totals? Find(string name) => _totals.GetValueOrDefault(name);

    private void Goal(string goal, double value, string target, Func<double, bool> met, double[]? rounds = null)
    {
        // A phase left out with --phases leaves its goals unmeasured, not failed.
        if (!double.IsNaN(value))
        {
            Goals.Add((goal, value, target, met(value), rounds ?? []));
        }
    }

    /// <summary>The mean of pgbench's runs with this many clients (one per round).</summary>
    private double PgbenchMean(int clients) => Pgbench.TryGetValue(clients, out var runs) ? runs.Average() : double.NaN;

    public void Print()
    {
        var low = settings.Connections.Min();
        var high = settings.Connections.Max();
        double Rate(string name) => Find(name)?.PerSecond ?? double.NaN;
        double RoundRate(string name, int round) => Find(name)?.Rounds is { } r && round < r.Count ? r[round] : double.NaN;
        var rounds = Enumerable.Range(0, settings.Rounds).ToArray();
        // Each ratio also per round: both sides measured within the same minute.
        double[] PerRound(Func<Func<string, double>, double> ratio) =>
            rounds.Select(i => ratio(name => RoundRate(name, i))).Where(v => !double.IsNaN(v)).ToArray();
        double Best(Func<string, double> rate) => settings.Connections.Select(c => rate($"hold batched {c}")).Max();

        if (Pgbench.Count > 0)
        {
            var pgbenchBest = Pgbench.Keys.Max(PgbenchMean);
            Goal("batched hot holds/s ÷ pgbench single-row best", Best(Rate) / pgbenchBest, "≥ 5", v => v >= 5,
                rounds.Where(i => Pgbench.Values.All(runs => i < runs.Count))
                    .Select(i => Best(name => RoundRate(name, i)) / Pgbench.Values.Max(runs => runs[i])).ToArray());
        }
        Goal($"batched ÷ Direct hot holds/s at {low}", Rate($"hold batched {low}") / Rate($"hold direct {low}"), "≥ 30", v => v >= 30,
            PerRound(r => r($"hold batched {low}") / r($"hold direct {low}")));
        Goal($"batched hot holds/s ÷ /health/live at {high}", Rate($"hold batched {high}") / Rate($"live {high}"), "≥ 0.35", v => v >= 0.35,
            PerRound(r => r($"hold batched {high}") / r($"live {high}")));
        Goal($"p99 batched hold latency at {high} (ms)", Find($"hold batched {high}")?.Result().P99Ms ?? double.NaN, "≤ 50", v => v <= 50);
        Goal($"batched hot holds/s at {high} ÷ best", Rate($"hold batched {high}") / Best(Rate), "≥ 0.9", v => v >= 0.9,
            PerRound(r => r($"hold batched {high}") / Best(r)));
        foreach (var c in settings.Connections)
        {
            // Single-line holds are one ticket each: tickets/s of holds of 1–3 lines against holds/s of one line.
            Goal($"tickets/s of 1–3-line holds across 3 types ÷ single-line hot holds/s at {c}",
                Rate($"lines {c}") * TicketsPerLinesHold / Rate($"hold batched {c}"), "≥ 0.7", v => v >= 0.7,
                PerRound(r => r($"lines {c}") * TicketsPerLinesHold / r($"hold batched {c}")));
        }
        Goal($"confirms/s ÷ batched holds/s at {low}", Rate($"confirm {low}") / Rate($"hold batched {low}"), "≥ 0.5", v => v >= 0.5,
            PerRound(r => r($"confirm {low}") / r($"hold batched {low}")));
        // Against the better of the two: a slump after the sweep must not pass for a cheap sweep (their mean did).
        var (before, during, after) = (Rate($"hold before sweep {low}"), Rate($"hold+sweep {low}"), Rate($"hold after sweep {low}"));
        Goal($"holds/s during sweep ÷ the better of just before and just after it, at {low}", during / Math.Max(before, after), "≥ 0.8",
            v => v >= 0.8, [during / before, during / after]);
        Goal($"holds/s just after the sweep ÷ just before it, at {low}", after / before, "≥ 0.8", v => v >= 0.8);
        foreach (var c in settings.Connections)
        {
            Goal($"batched hot holds/s, webhook triggers and no subscriber ÷ no triggers, at {c}", Rate($"hold batched {c}") / Rate($"hold no triggers {c}"),
                "≥ 0.95", v => v >= 0.95, PerRound(r => r($"hold batched {c}") / r($"hold no triggers {c}")));
            Goal($"batched hot holds/s, a reservation.held subscriber ÷ no triggers, at {c}", Rate($"hold hooked {c}") / Rate($"hold no triggers {c}"),
                "≥ 0.70", v => v >= 0.70, PerRound(r => r($"hold hooked {c}") / r($"hold no triggers {c}")));
            Goal($"the same, its messages written but delivered elsewhere (the outbox's cost to holds alone), at {c}",
                Rate($"hold hooked deferred {c}") / Rate($"hold no triggers {c}"),
                "≥ 0.70", v => v >= 0.70, PerRound(r => r($"hold hooked deferred {c}") / r($"hold no triggers {c}")));
            var backlog = WebhookBacklog.Where(b => b.Connections == c).Select(b => b.Figures).ToArray();
            if (backlog.Length > 0)
            {
                // Delivery keeps up when the backlog does not grow: its slope over the phase, against the confirm rate.
                var growth = backlog.Select(b => b.GrowthPerSecond / Math.Max(1, b.Confirms / b.Seconds)).ToArray();
                Goal($"webhook backlog growth ÷ confirms/s during the confirm phase, at {c}", growth.Max(), "≤ 0.02", v => v <= 0.02, growth);
            }
        }
        Goal("server peak RSS, batched run (MB)", PeakRssMb.GetValueOrDefault("Batched", double.NaN), "≤ 400", v => v <= 400);
        WrkGoals(high);
        foreach (var worker in Startup.Where(s => s.Host == "Functions worker"))
        {
            Goal($"Functions worker: start to first hold answered, median ms ({worker.Build})", worker.MedianHoldMs, "≤ 1000", v => v <= 1000);
        }

        var text = new StringBuilder();
        text.AppendLine();
        text.AppendLine("| phase | what | conns | req/s | p50 ms | p90 ms | p99 ms | max ms | CPU load gen / server / PostgreSQL | CPU µs per request, same order | statuses |");
        text.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---|---|---|");
        foreach (var p in Phases)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {p.Name} | {p.Description} | {p.Connections} | {p.PerSecond:N0} | {p.P50Ms:N1} | {p.P90Ms:N1} | {p.P99Ms:N1} | {p.MaxMs:N1} | {p.CpuBench:N0}% / {p.CpuServer:N0}% / {p.CpuPostgres:N0}% | {p.CpuMicrosPerRequestBench:N0} / {p.CpuMicrosPerRequestServer:N0} / {p.CpuMicrosPerRequestPostgres:N0} | {Statuses(p.Statuses)} |");
        }
        foreach (var clients in Pgbench.Keys)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| pgbench {clients} | one conditional single-row UPDATE per transaction | {clients} | {PgbenchMean(clients):N0} | | | | | | | |");
        }
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Each phase ran in {settings.Rounds} round(s) of {settings.Duration.TotalSeconds:0} s, the phases interleaved (every phase once per round, then the next round); figures are over all rounds.");
        text.AppendLine("Latencies are closed-loop (each connection waits for its answer before the next request).");
        text.AppendLine(CultureInfo.InvariantCulture, $"CPU is the share of all {Environment.ProcessorCount} cores used by the load generator, the server and PostgreSQL during the phase, and each one's CPU time per request:");
        text.AppendLine("what a request costs this machine. With the cores all busy, requests/s is about the cores' time divided by the sum of the three.");
        if (Sweep is { } sweep)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"Sweeper (one, as in production; the server's timer is off for the run): released {sweep.Holds:N0} expired holds in {sweep.Seconds:N1} s ({sweep.HoldsPerSecond:N0}/s) while holds continued.");
        }
        if (Wrk.Count > 0)
        {
            text.AppendLine();
            text.AppendLine(CultureInfo.InvariantCulture, $"Measured with wrk against servers at their shipped settings except {WrkPhases.RelaxedText} (events with maxTicketsPerUser {WrkPhases.MaxTicketsPerUserOfBenchEvents}); holds/s counts 201s only, every other status is listed; one row per round.");
            text.AppendLine("Over several servers, p50/p99 are the slowest wrk process's; PostgreSQL CPU is all its processes' time (µs per hold), WAL from pg_current_wal_lsn(), lock waiters and connections sampled from pg_stat_activity every 100 ms; server CPU in % of one core.");
            text.AppendLine();
            text.Append(WrkPhases.Table(Wrk));
        }
        text.AppendLine(CultureInfo.InvariantCulture, $"Server peak RSS: {string.Join(", ", PeakRssMb.Select(kv => $"{kv.Key} {kv.Value:N0} MB"))}");
        if (Startup.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("Start-up, from starting the process (for Functions: the worker process, under the stand-in host) to its first answers:");
            text.AppendLine();
            text.Append(StartupPhase.Table(Startup));
        }
        if (BatchCost.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("A hold batch's cost to PostgreSQL (whole batches one after another on one connection, shipped caps on; the backend's CPU time):");
            text.AppendLine();
            text.Append(BatchCostPhase.Table(BatchCost, OutboxTriggers));
        }
        if (DeliveryCost.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("A webhook message's cost to PostgreSQL (claim and record rounds one after another on one connection, the sending left out; the backend's CPU time):");
            text.AppendLine();
            text.Append(DeliveryCostPhase.Table(DeliveryCost));
        }
        if (Instances.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("The database's side of scale-out: hold combiners of 1 to 4 instances (each its own pool, engine and lane) in the benchmark's process, virtual buyers each waiting for its answer, no HTTP; shipped batching and caps; PostgreSQL CPU is all its processes' time:");
            text.AppendLine();
            text.Append(InstancesPhase.Table(Instances));
        }
        text.AppendLine();
        text.AppendLine("| goal | measured | target | met | per round (sweep: ÷ before, ÷ after) |");
        text.AppendLine("|---|---:|---|---|---|");
        foreach (var (goal, value, target, met, perRound) in Goals)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {goal} | {value:N2} | {target} | {(met ? "yes" : "NO")} | {string.Join(" / ", perRound.Select(v => v.ToString("N2", CultureInfo.InvariantCulture)))} |");
        }
        text.AppendLine();
        text.AppendLine(Failures.Count == 0
            ? "Checks: invariant intact after every phase, no oversell, no 500s, no failed requests."
            : "CHECKS FAILED:\n  " + string.Join("\n  ", Failures));
        Console.WriteLine(text);
    }

    public string ToJson() => JsonSerializer.Serialize(new
    {
        commit,
        machine = new { cores = Environment.ProcessorCount, os = System.Runtime.InteropServices.RuntimeInformation.OSDescription },
        rounds = settings.Rounds,
        secondsPerPhasePerRound = settings.Duration.TotalSeconds,
        warmUpSecondsLaterRounds = settings.RoundWarmUp.TotalSeconds,
        warmUpSecondsPerPhase = settings.WarmUp.TotalSeconds,
        phases = Phases,
        pgbench = Pgbench.ToDictionary(kv => kv.Key, kv => new { mean = kv.Value.Average(), rounds = kv.Value }),
        sweep = Sweep,
        webhookBacklog = WebhookBacklog.Select(b => new { connections = b.Connections, b.Figures }),
        batchCost = BatchCost.Count == 0 ? null : new
        {
            sizes = BatchCost,
            fixedMicrosPerBatch = BatchCostPhase.Fit(BatchCost).Fixed,
            microsPerHold = BatchCostPhase.Fit(BatchCost).PerHold,
            outboxTriggers = OutboxTriggers,
        },
        deliveryCost = DeliveryCost,
        instances = Instances,
        startup = Startup.Select(s => new { s.Host, s.Build, s.LoadedMs, s.LiveMs, s.HoldMs, s.MedianLoadedMs, s.MedianLiveMs, s.MedianHoldMs }),
        peakRssMb = PeakRssMb,
        goals = Goals.Select(g => new { g.Goal, g.Value, g.Target, g.Met, g.Rounds }),
        wrk = Wrk,
        wrkRelaxedSettings = WrkPhases.Relaxed,
        failures = Failures,
    }, new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals });

    /// <summary>Issue 19's scale-out goals on the database's side, from the in-process instances: means over the rounds.</summary>
    public void InstancesGoals()
    {
        var most = settings.ScaleOut.Max();
        var fewest = settings.ScaleOut.Min();
        if (most == fewest)
        {
            return;
        }
        InstancesFigures[] Rows(int count, bool oneEvent) => Instances.Where(f => f.Instances == count && f.OneEvent == oneEvent).ToArray();
        var hotMost = Rows(most, true);
        var separateMost = Rows(most, false);
        var hotFewest = Rows(fewest, true);
        Goal($"instances (database side): {most} on one hot event ÷ each its own event (holds/s)",
            hotMost.Average(f => f.HoldsPerSecond) / separateMost.Average(f => f.HoldsPerSecond), "≥ 0.9", v => v >= 0.9,
            hotMost.Zip(separateMost, (a, b) => a.HoldsPerSecond / b.HoldsPerSecond).ToArray());
        Goal($"instances (database side): PostgreSQL CPU per hold, {most} ÷ {fewest}, hot event",
            hotMost.Average(f => f.PostgresCpuMicrosPerHold) / hotFewest.Average(f => f.PostgresCpuMicrosPerHold), "≤ 1.3", v => v <= 1.3,
            hotMost.Zip(hotFewest, (a, b) => a.PostgresCpuMicrosPerHold / b.PostgresCpuMicrosPerHold).ToArray());
        Goal($"instances (database side): {most} ÷ {fewest}, hot event (holds/s)",
            hotMost.Average(f => f.HoldsPerSecond) / hotFewest.Average(f => f.HoldsPerSecond), "(reported)", _ => true,
            hotMost.Zip(hotFewest, (a, b) => a.HoldsPerSecond / b.HoldsPerSecond).ToArray());
    }

    /// <summary>Issue 19's goals, from the wrk rows: means over the rounds (cold runs apart).</summary>
    private void WrkGoals(int connections)
    {
        double Mean(Func<WrkFigures, double> value, string prefix) =>
            Wrk.Where(f => f.Name.StartsWith(prefix + " r", StringComparison.Ordinal)).Select(value).DefaultIfEmpty(double.NaN).Average();
        double Holds(string prefix) => Mean(f => f.HoldsPerSecond, prefix);
        double[] PerRound(string numerator, Func<WrkFigures, double> a, string denominator, Func<WrkFigures, double> b) =>
            Wrk.Where(f => f.Name.StartsWith(numerator + " r", StringComparison.Ordinal))
                .Join(Wrk.Where(f => f.Name.StartsWith(denominator + " r", StringComparison.Ordinal)),
                    f => f.Name[(f.Name.LastIndexOf(' ') + 1)..], f => f.Name[(f.Name.LastIndexOf(' ') + 1)..], (x, y) => a(x) / b(y)).ToArray();
        var live = Mean(f => f.RequestsPerSecond, $"wrk live {connections}");
        Goal($"wrk: hot holds/s (shipped, cap on) ÷ wrk /health/live at {connections}", Holds($"wrk hold {connections}") / live, "≥ 0.35", v => v >= 0.35,
            PerRound($"wrk hold {connections}", f => f.HoldsPerSecond, $"wrk live {connections}", f => f.RequestsPerSecond));
        Goal($"wrk: keyed holds/s (shipped) ÷ wrk /health/live at {connections}", Holds($"wrk keyed {connections}") / live, "≥ 0.35", v => v >= 0.35,
            PerRound($"wrk keyed {connections}", f => f.HoldsPerSecond, $"wrk live {connections}", f => f.RequestsPerSecond));
        Goal($"wrk: p99 hot hold latency, shipped, at {connections} (ms)", Wrk.Where(f => f.Name.StartsWith($"wrk hold {connections} r", StringComparison.Ordinal))
            .Select(f => f.P99Ms).DefaultIfEmpty(double.NaN).Max(), "≤ 30", v => v <= 30);
        Goal($".NET generator: hot holds/s (shipped) ÷ /health/live at {connections}", Find($"shipped hold {connections}")?.PerSecond / Find($"shipped live {connections}")?.PerSecond ?? double.NaN,
            "(beside wrk's)", _ => true);
        var most = settings.ScaleOut.Max();
        var fewest = settings.ScaleOut.Min();
        if (most > fewest)
        {
            Goal($"scale-out: {most} servers, one hot event ÷ each its own event (holds/s)", Holds($"scale-out {most} hot") / Holds($"scale-out {most} separate"), "≥ 0.9",
                v => v >= 0.9, PerRound($"scale-out {most} hot", f => f.HoldsPerSecond, $"scale-out {most} separate", f => f.HoldsPerSecond));
            Goal($"scale-out: PostgreSQL CPU per hold, {most} servers ÷ {fewest}, hot event", Mean(f => f.PostgresCpuMicrosPerHold, $"scale-out {most} hot")
                / Mean(f => f.PostgresCpuMicrosPerHold, $"scale-out {fewest} hot"), "≤ 1.3", v => v <= 1.3);
            Goal($"scale-out: {most} servers ÷ {fewest}, hot event (holds/s)", Holds($"scale-out {most} hot") / Holds($"scale-out {fewest} hot"), "(reported)", _ => true);
        }
        Goal($"PgBouncer (transaction mode) ÷ direct, hot holds/s at {connections}", Holds($"pgbouncer hold {connections}") / Holds($"direct hold {connections}"),
            "(reported)", _ => true, PerRound($"pgbouncer hold {connections}", f => f.HoldsPerSecond, $"direct hold {connections}", f => f.HoldsPerSecond));
    }

    private static string Statuses(SortedDictionary<int, long> statuses) =>
        string.Join(" ", statuses.Select(kv => $"{(kv.Key == 0 ? "error" : kv.Key.ToString(CultureInfo.InvariantCulture))}×{kv.Value}"));
}
