// The phases measured with wrk against servers at their shipped settings (docs/benchmarks.md, "Ceiling, scale-out
// and PgBouncer"): the ceiling (live, hot holds, keyed holds), 1/2/4 server processes on one database (one hot
// event, or each its own), and hot holds through PgBouncer in transaction mode next to direct. Around every run:
// PostgreSQL's CPU (all its processes, from /proc), each server's CPU, the WAL it wrote (pg_current_wal_lsn) and
// sampled row-lock waits and connections (pg_stat_activity); the invariant after every phase.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Dapper;
using Npgsql;

namespace Tickets.Bench;

/// <summary>One measured wrk phase: totals over its wrk processes and what the database did meanwhile.</summary>
internal sealed record WrkFigures(
    string Name, string Description, int Processes, int Connections, double Seconds, long Requests, double RequestsPerSecond,
    long Holds, double HoldsPerSecond, double P50Ms, double P99Ms, double MaxMs, SortedDictionary<int, long> Statuses,
    double PostgresCpuPercent, double PostgresCpuMicrosPerHold, double WalBytesPerHold, double LockWaitersMean, int LockWaitersMax,
    double ActiveBackendsMean, int ConnectionsMax, double[] ServerCpuPercent);

internal static class WrkPhases
{
    /// <summary>
    /// Shipped defaults, except what a load generator on one address with synthetic buyers trips over; each is
    /// printed beside the figures. The live-holds cap (20 per buyer) and the per-event ticket limit stay on: the
    /// events are made with a limit of their own (100 per buyer), so its check runs as it does in production.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> Relaxed = new Dictionary<string, string>
    {
        // All of wrk's connections come from 127.0.0.1: 60 holds a minute would refuse nearly everything.
        ["RateLimits__HoldsPerClientPerMinute"] = "0",
        // Tokens rotate over many buyers, so 5 writes a second per buyer is rarely reached, but bursts at the
        // start of a run would be refused: off, as in the outside measurements.
        ["RateLimits__WritesPerUserPerSecond"] = "0",
        // The .NET generator fetches its admin token over HTTP; no hold path depends on it.
        ["RateLimits__AuthPerClientPerMinute"] = "0",
    };

    public const int MaxTicketsPerUserOfBenchEvents = 100;

    public static string RelaxedText => string.Join(", ", Relaxed.Select(kv => $"{kv.Key}={kv.Value}"));

    /// <summary>Runs wrk processes at once, <paramref name="connections"/> spread over them; sums their figures.</summary>
    public static async Task<WrkFigures> MeasureAsync(string name, string description, NpgsqlDataSource dataSource, IReadOnlyList<int> serverPids,
        int connections, Func<int, int, Task<WrkRun>> runOne, int processes)
    {
        var cpuBefore = CpuSample.Take(serverPids[0]);
        var serversBefore = serverPids.Select(ProcessCpu.Seconds).ToArray();
        var walBefore = await WalAsync(dataSource);
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        var sampler = SampleActivityAsync(dataSource, stop.Token);
        var per = Math.Max(1, connections / processes);
        var runs = await Task.WhenAll(Enumerable.Range(0, processes).Select(i => runOne(i, per)));
        await stop.CancelAsync();
        var (lockMean, lockMax, activeMean, connectionsMax) = await sampler;
        var seconds = clock.Elapsed.TotalSeconds;
        var wal = await WalAsync(dataSource) - walBefore;
        var cpu = CpuSample.Take(serverPids[0]) - cpuBefore;
        var serverCpu = serverPids.Select((pid, i) => 100 * (ProcessCpu.Seconds(pid) - serversBefore[i]) / seconds).ToArray();
        var statuses = new SortedDictionary<int, long>();
        foreach (var run in runs)
        {
            foreach (var (status, count) in run.Statuses)
            {
                statuses[status] = statuses.GetValueOrDefault(status) + count;
            }
            if (run.SocketErrors + run.Timeouts > 0)
            {
                statuses[0] = statuses.GetValueOrDefault(0) + run.SocketErrors + run.Timeouts;
            }
        }
        var wrkSeconds = runs.Max(r => r.Seconds);
        var requests = runs.Sum(r => r.Requests);
        var holds = statuses.GetValueOrDefault(201);
        var figures = new WrkFigures(name, description, processes, per * processes, wrkSeconds, requests, requests / wrkSeconds,
            holds, holds / wrkSeconds,
            // Over several wrk processes: the slowest process's percentile (wrk gives percentiles, not samples).
            runs.Max(r => r.P50Ms), runs.Max(r => r.P99Ms), runs.Max(r => r.MaxMs), statuses,
            100 * cpu.Postgres / seconds / Environment.ProcessorCount, holds == 0 ? double.NaN : cpu.Postgres * 1e6 / holds,
            holds == 0 ? double.NaN : (double)wal / holds, lockMean, lockMax, activeMean, connectionsMax, serverCpu);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name,-28} {figures.RequestsPerSecond,9:N0} req/s {figures.HoldsPerSecond,9:N0} holds/s p99 {figures.P99Ms,6:N1} ms  pg {figures.PostgresCpuPercent:N0}% ({figures.PostgresCpuMicrosPerHold:N0} µs/hold) WAL {figures.WalBytesPerHold:N0} B/hold lock waiters {lockMean:N1}/{lockMax} conns {connectionsMax} servers {string.Join("/", serverCpu.Select(c => c.ToString("N0", CultureInfo.InvariantCulture)))}%  {StatusText(statuses)}"));
        return figures;
    }

    /// <summary>
    /// The ceiling at the shipped settings: /api/health/live, hot-event holds and holds with an Idempotency-Key
    /// each, with wrk and with the .NET generator against the same server, every phase once per round.
    /// </summary>
    public static async Task RunCeilingAsync(string root, string connectionString, NpgsqlDataSource dataSource, BenchReport report, BenchSettings settings)
    {
        var connections = settings.Connections.Max();
        await using var server = await ServerProcess.StartAsync(root, connectionString, "Batched", 7183, Relaxed, settings.PinServers);
        var admin = await BenchClient.CreateAsync(server.BaseAddress, dataSource, 1);
        var hot = await admin.CreateEventAsync("Hot event (shipped settings)", 10_000_000, MaxTicketsPerUserOfBenchEvents);
        var pids = new[] { server.ProcessId };
        Console.WriteLine($"Ceiling server: shipped settings except {RelaxedText}; events with maxTicketsPerUser {MaxTicketsPerUserOfBenchEvents}");
        for (var round = 1; round <= settings.Rounds; round++)
        {
            var warmUp = round == 1 ? settings.WarmUp : settings.RoundWarmUp;
            var live = new Uri(server.BaseAddress, "health/live");
            await Wrk.GetAsync(live, connections, warmUp, settings.PinWrk);
            report.Wrk.Add(await MeasureAsync($"wrk live {connections} r{round}", "GET /api/health/live", dataSource, pids, connections,
                (_, c) => Wrk.GetAsync(live, c, settings.Duration, settings.PinWrk), 1));
            foreach (var keyed in new[] { false, true })
            {
                var kind = keyed ? "keyed" : "hold";
                await WithTokensAsync(dataSource, settings, tokens => Wrk.HoldAsync(server.BaseAddress, hot, tokens, keyed, connections, warmUp, settings.PinWrk));
                var figures = await WithTokensAsync(dataSource, settings, tokens => MeasureAsync($"wrk {kind} {connections} r{round}",
                    keyed ? "holds with an Idempotency-Key each, hot event, shipped settings" : "holds, hot event, shipped settings (live-holds cap on)",
                    dataSource, pids, connections, (_, c) => Wrk.HoldAsync(server.BaseAddress, hot, tokens, keyed, c, settings.Duration, settings.PinWrk), 1));
                report.Wrk.Add(figures);
                Check(report, figures);
                await report.CheckInvariantAsync(figures.Name, dataSource);
            }
            // The .NET generator against the same server: its tokens rotate over fresh buyers as wrk's do.
            var tokenFile = await Wrk.GuestTokensAsync(dataSource, settings.WrkTokens);
            var buyers = admin.Rotating(await File.ReadAllLinesAsync(tokenFile));
            Wrk.Delete(tokenFile);
            var target = server.Target;
            await report.RunAsync($"shipped live {connections}", "GET /api/health/live, shipped settings (.NET generator)", connections, target, buyers.Live, dataSource);
            await report.RunAsync($"shipped hold {connections}", "holds, hot event, shipped settings (.NET generator)", connections, target, buyers.Hold(hot), dataSource);
            await report.RunAsync($"shipped keyed {connections}", "keyed holds, hot event, shipped settings (.NET generator)", connections, target, buyers.HoldWithKey(hot), dataSource);
        }
    }

    /// <summary>
    /// 1, 2, 4… Tickets.Server processes on one database (each its own combiner, pool and sweep timer), the
    /// connections spread over them by one wrk process per server: (a) all on one hot event, (b) each on its own.
    /// Measured once right after the servers started (cold), then after a warm-up, every round.
    /// </summary>
    public static async Task RunScaleOutAsync(string root, string connectionString, NpgsqlDataSource dataSource, BenchReport report, BenchSettings settings)
    {
        var connections = settings.Connections.Max();
        Console.WriteLine($"Scale-out servers: shipped settings except {RelaxedText}; pinned: servers {settings.PinServers ?? "no"}, " +
            $"PostgreSQL {settings.PinPostgres ?? "no"}, wrk {settings.PinWrk ?? "no"}");
        foreach (var count in settings.ScaleOut)
        {
            var servers = await Task.WhenAll(Enumerable.Range(0, count).Select(i =>
                ServerProcess.StartAsync(root, connectionString, "Batched", 7300 + i, Relaxed, settings.PinServers)));
            try
            {
                if (settings.PinPostgres is { } cores)
                {
                    PinPostgres(cores);
                }
                var pids = servers.Select(s => s.ProcessId).ToArray();
                var admin = await BenchClient.CreateAsync(servers[0].BaseAddress, dataSource, 1);
                var hot = await admin.CreateEventAsync($"Hot event ({count} servers)", 10_000_000, MaxTicketsPerUserOfBenchEvents);
                var own = await Task.WhenAll(servers.Select((_, i) => admin.CreateEventAsync($"Event {i} of {count}", 10_000_000, MaxTicketsPerUserOfBenchEvents)));
                Task<WrkFigures> Measure(string name, string description, Func<int, Guid> eventOf, TimeSpan duration) =>
                    WithTokensAsync(dataSource, settings, tokens => MeasureAsync(name, description, dataSource, pids, connections,
                        (i, c) => Wrk.HoldAsync(servers[i].BaseAddress, eventOf(i), tokens, keyed: false, c, duration, settings.PinWrk), count));
                async Task Record(WrkFigures figures)
                {
                    report.Wrk.Add(figures);
                    Check(report, figures);
                    await report.CheckInvariantAsync(figures.Name, dataSource);
                }
                await Record(await Measure($"scale-out {count} hot cold", $"{count} server(s) just started, one hot event", _ => hot, settings.Duration));
                for (var round = 1; round <= settings.Rounds; round++)
                {
                    var warmUp = round == 1 ? settings.WarmUp : settings.RoundWarmUp;
                    await Measure("warm-up", "", _ => hot, warmUp);
                    await Record(await Measure($"scale-out {count} hot r{round}", $"{count} server(s), one hot event", _ => hot, settings.Duration));
                    await Measure("warm-up", "", i => own[i], settings.RoundWarmUp);
                    await Record(await Measure($"scale-out {count} separate r{round}", $"{count} server(s), each its own event", i => own[i], settings.Duration));
                }
            }
            finally
            {
                foreach (var server in servers)
                {
                    await server.DisposeAsync();
                }
            }
        }
    }

    /// <summary>Hot-event holds from one server through PgBouncer (transaction mode) and one straight to PostgreSQL, each round both.</summary>
    public static async Task RunPgBouncerAsync(string root, string connectionString, NpgsqlDataSource dataSource, BenchReport report, BenchSettings settings)
    {
        var connections = settings.Connections.Max();
        var database = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        await using var bouncer = await Tickets.Tests.LocalPgBouncer.StartAsync(connectionString, settings.PgBouncerPoolSize);
        var throughBouncer = new Dictionary<string, string>(Relaxed) { ["Tickets__PreparedStatements"] = "PerTransaction" };
        await using var direct = await ServerProcess.StartAsync(root, connectionString, "Batched", 7186, Relaxed, settings.PinServers);
        await using var pooled = await ServerProcess.StartAsync(root, bouncer.ConnectionString(database), "Batched", 7187, throughBouncer, settings.PinServers);
        Console.WriteLine($"PgBouncer {bouncer.Port}: transaction mode, default_pool_size {settings.PgBouncerPoolSize}; its server: " +
            $"No Reset On Close=true, Max Auto Prepare=0, Tickets__PreparedStatements=PerTransaction; both servers shipped settings except {RelaxedText}");
        var admin = await BenchClient.CreateAsync(direct.BaseAddress, dataSource, 1);
        var targets = new[]
        {
            (Server: direct, Label: "direct", Event: await admin.CreateEventAsync("Hot event (direct)", 10_000_000, MaxTicketsPerUserOfBenchEvents)),
            (Server: pooled, Label: "pgbouncer", Event: await admin.CreateEventAsync("Hot event (PgBouncer)", 10_000_000, MaxTicketsPerUserOfBenchEvents)),
        };
        for (var round = 1; round <= settings.Rounds; round++)
        {
            foreach (var (server, label, hot) in targets)
            {
                await WithTokensAsync(dataSource, settings, tokens =>
                    Wrk.HoldAsync(server.BaseAddress, hot, tokens, keyed: false, connections, round == 1 ? settings.WarmUp : settings.RoundWarmUp, settings.PinWrk));
                var figures = await WithTokensAsync(dataSource, settings, tokens => MeasureAsync($"{label} hold {connections} r{round}",
                    $"holds, hot event, {(label == "direct" ? "straight to PostgreSQL" : "through PgBouncer, transaction mode")}", dataSource,
                    [server.ProcessId], connections, (_, c) => Wrk.HoldAsync(server.BaseAddress, hot, tokens, keyed: false, c, settings.Duration, settings.PinWrk), 1));
                report.Wrk.Add(figures);
                Check(report, figures);
                await report.CheckInvariantAsync(figures.Name, dataSource);
            }
        }
    }

    private static async Task<T> WithTokensAsync<T>(NpgsqlDataSource dataSource, BenchSettings settings, Func<string, Task<T>> run)
    {
        var tokens = await Wrk.GuestTokensAsync(dataSource, settings.WrkTokens);
        try
        {
            return await run(tokens);
        }
        finally
        {
            Wrk.Delete(tokens);
        }
    }

    /// <summary>A 500 or a failed request fails the run; any other refusal is printed with the figures.</summary>
    private static void Check(BenchReport report, WrkFigures figures)
    {
        if (figures.Statuses.Keys.Any(s => s is 500 or 0))
        {
            report.Failures.Add($"{figures.Name}: {StatusText(figures.Statuses)} (a 500 or a failed request)");
        }
        // A cold run may end before a just-started server answered anything (in a smoke run of one second).
        if (figures.Holds == 0 && !figures.Name.EndsWith(" cold", StringComparison.Ordinal))
        {
            report.Failures.Add($"{figures.Name}: no hold succeeded ({StatusText(figures.Statuses)})");
        }
    }

    /// <summary>Pins every PostgreSQL process (and, through the postmaster, the backends it starts later) to <paramref name="cores"/>.</summary>
    private static void PinPostgres(string cores)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out var pid) && File.Exists($"{dir}/comm") && File.ReadAllText($"{dir}/comm").Trim() == "postgres")
            {
                using var taskset = Process.Start(new ProcessStartInfo("taskset", ["-a", "-c", "-p", cores, pid.ToString(CultureInfo.InvariantCulture)])
                {
                    RedirectStandardOutput = true,
                });
                taskset?.WaitForExit();
            }
        }
    }

    public static string StatusText(SortedDictionary<int, long> statuses) =>
        string.Join(" ", statuses.Select(kv => $"{kv.Key switch { 0 => "error", 999 => "non-2xx", var s => s.ToString(CultureInfo.InvariantCulture) }}×{kv.Value}"));

    private static async Task<long> WalAsync(NpgsqlDataSource dataSource)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<long>("select pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint");
    }

    /// <summary>
    /// Every 100 ms, this database's client backends: waiting for a lock (here: the hot event's row), active, and
    /// connected (the cluster may serve other databases; their backends are not counted).
    /// </summary>
    internal static async Task<(double LockMean, int LockMax, double ActiveMean, int ConnectionsMax)> SampleActivityAsync(
        NpgsqlDataSource dataSource, CancellationToken stop)
    {
        const string sql = """
            select count(*) filter (where wait_event_type = 'Lock')::int as waiting,
                   count(*) filter (where state = 'active')::int as active,
                   count(*)::int as connected
            from pg_stat_activity
            where backend_type = 'client backend' and datname = current_database() and pid <> pg_backend_pid()
            """;
        List<(int Waiting, int Active, int Connected)> samples = [];
        await using var connection = await dataSource.OpenConnectionAsync(CancellationToken.None);
        while (!stop.IsCancellationRequested)
        {
            samples.Add(await connection.QuerySingleAsync<(int, int, int)>(sql));
            try
            {
                await Task.Delay(100, stop);
            }
            catch (OperationCanceledException)
            {
            }
        }
        return samples.Count == 0 ? (0, 0, 0, 0)
            : (samples.Average(s => s.Waiting), samples.Max(s => s.Waiting), samples.Average(s => s.Active), samples.Max(s => s.Connected));
    }

    public static string Table(IEnumerable<WrkFigures> figures)
    {
        var text = new StringBuilder();
        text.AppendLine("| phase (wrk) | what | servers | conns | req/s | holds/s | p50 ms | p99 ms | PostgreSQL CPU | PG CPU µs/hold | WAL B/hold | lock waiters mean/max | active backends mean | connections max | server CPU each | statuses |");
        text.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---|---|");
        foreach (var f in figures)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {f.Name} | {f.Description} | {f.Processes} | {f.Connections} | {f.RequestsPerSecond:N0} | {f.HoldsPerSecond:N0} | {f.P50Ms:N1} | {f.P99Ms:N1} | {f.PostgresCpuPercent:N0}% | {f.PostgresCpuMicrosPerHold:N0} | {f.WalBytesPerHold:N0} | {f.LockWaitersMean:N1} / {f.LockWaitersMax} | {f.ActiveBackendsMean:N1} | {f.ConnectionsMax} | {string.Join(" / ", f.ServerCpuPercent.Select(c => c.ToString("N0", CultureInfo.InvariantCulture) + "%"))} | {StatusText(f.Statuses)} |");
        }
        return text.ToString();
    }
}

/// <summary>CPU seconds of one process so far (utime + stime, from /proc).</summary>
internal static class ProcessCpu
{
    public static double Seconds(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
        }
        catch (IOException)
        {
            return double.NaN;
        }
    }
}
