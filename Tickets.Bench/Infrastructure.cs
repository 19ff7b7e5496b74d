// The benchmark's moving parts: settings, a fresh database, pgbench, and the server as a child process.
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Npgsql;
using Tickets.Data;

namespace Tickets.Bench;

internal sealed record BenchSettings(
    TimeSpan Duration, TimeSpan WarmUp, int Rounds, int[] Connections, string? Out, bool SkipPgbench, IReadOnlySet<string> Phases, int SweepHolds,
    int Starts, int[] ScaleOut, int WrkTokens, string? PinServers, string? PinPostgres, string? PinWrk, int PgBouncerPoolSize)
{
    /// <summary>Every phase, in the order they run in a round (pgbench after them); <c>--phases</c> picks some for a quicker look.</summary>
    public static readonly string[] AllPhases = ["startup", "batchcost", "deliverycost", "instances", "direct", "live", "hold", "webhooks", "lines", "keyed", "spread", "confirm", "sweep", "ceiling", "scaleout", "pgbouncer"];

    /// <summary>
    /// Warm-up of a phase in the rounds after its first: the server's code is optimized by then, so this only
    /// opens the connections and fills the pipeline again.
    /// </summary>
    public TimeSpan RoundWarmUp => TimeSpan.FromSeconds(Math.Min(2, WarmUp.TotalSeconds));

    public bool Runs(string phase) => Phases.Contains(phase);

    public static BenchSettings Parse(string[] args)
    {
        var duration = TimeSpan.FromSeconds(4);
        // Tiered compilation with PGO needs several seconds of load before the hold path runs its optimized code
        // (measured: 8.4k–11.7k holds/s after 3 s of warm-up, 15–16k after 10 s, same run otherwise).
        var warmUp = TimeSpan.FromSeconds(10);
        // The machine's speed drifts (by up to 2× within an hour on a shared host): a ratio is only as good as
        // the closeness in time of its two sides, so every phase runs once per round, the rounds one after another.
        var rounds = 3;
        int[] connections = [64, 256];
        string? output = null;
        var skipPgbench = false;
        var sweepHolds = 100_000;
        var starts = 10;
        int[] scaleOut = [1, 2, 4];
        var wrkTokens = 20_000;
        string? pinServers = null, pinPostgres = null, pinWrk = null;
        // Azure Database for PostgreSQL's built-in PgBouncer: pgbouncer.default_pool_size 50.
        var pgBouncerPoolSize = 50;
        IReadOnlySet<string> phases = AllPhases.ToHashSet();
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--duration": duration = TimeSpan.FromSeconds(double.Parse(args[++i], CultureInfo.InvariantCulture)); break;
                case "--warmup": warmUp = TimeSpan.FromSeconds(double.Parse(args[++i], CultureInfo.InvariantCulture)); break;
                case "--rounds": rounds = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--connections": connections = args[++i].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray(); break;
                case "--out": output = args[++i]; break;
                case "--skip-pgbench": skipPgbench = true; break;
                case "--sweep-holds": sweepHolds = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--starts": starts = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--scale-out": scaleOut = args[++i].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray(); break;
                case "--wrk-tokens": wrkTokens = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--pin-servers": pinServers = args[++i]; break;
                case "--pin-postgres": pinPostgres = args[++i]; break;
                case "--pin-wrk": pinWrk = args[++i]; break;
                case "--pgbouncer-pool": pgBouncerPoolSize = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--phases":
                    phases = args[++i].Split(',').ToHashSet();
                    if (phases.Except(AllPhases).FirstOrDefault() is { } unknown)
                    {
                        throw new ArgumentException($"Unknown phase {unknown}; phases are {string.Join(",", AllPhases)}");
                    }
                    break;
                default: throw new ArgumentException($"Unknown argument {args[i]}. Use --duration S --warmup S --rounds N --connections 64,256 --out FILE --skip-pgbench --sweep-holds N --starts N --scale-out 1,2,4 --wrk-tokens N --pin-servers CPUS --pin-postgres CPUS --pin-wrk CPUS --pgbouncer-pool N --phases {string.Join(",", AllPhases)}");
            }
        }
        if (rounds < 1 || duration < TimeSpan.FromSeconds(1) || sweepHolds < 1 || starts < 1)
        {
            throw new ArgumentException("--rounds, --sweep-holds and --starts must be at least 1, --duration at least 1 s (pgbench counts whole seconds).");
        }
        if (wrkTokens < 1 || scaleOut.Any(n => n < 1))
        {
            throw new ArgumentException("--wrk-tokens and every --scale-out count must be at least 1.");
        }
        return new BenchSettings(duration, warmUp, rounds, connections, output, skipPgbench, phases, sweepHolds, starts, scaleOut, wrkTokens,
            pinServers, pinPostgres, pinWrk, pgBouncerPoolSize);
    }
}

internal static class BenchDatabase
{
    /// <summary>
    /// A database of this checkout's own on the shared local cluster: every run resets its database, and two
    /// checkouts benchmarking at once on one database dropped each other's events and schema mid-run.
    /// </summary>
    private static string LocalDatabaseName()
    {
        var root = LocalPostgres.FindRepositoryRoot() ?? "";
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(root)))[..8];
        return $"tickets_bench_{hash}";
    }

    public static async Task<string> ResetAsync(ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger("Tickets.Bench");
        var configured = Environment.GetEnvironmentVariable("TICKETS_BENCH_CONNECTION_STRING");
        var connectionString = string.IsNullOrWhiteSpace(configured)
            ? await new LocalPostgres(logger).EnsureStartedAsync(LocalDatabaseName())
            : configured;
        connectionString = new NpgsqlConnectionStringBuilder(connectionString) { MaxPoolSize = 50 }.ConnectionString;
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        // Settings stored on the database (ALTER DATABASE … SET, say by an experiment below) outlive the schema and
        // would silently change every later run: one left synchronous_commit off, and pgbench tripled.
        const string resetSql = """
            do $$
            begin
                execute format('alter database %I reset all', current_database());
                execute format('alter role %I in database %I reset all', current_user, current_database());
            end
            $$;
            drop schema if exists public cascade;
            create schema public;
            """;
        await using (var reset = dataSource.CreateCommand(resetSql))
        {
            await reset.ExecuteNonQueryAsync();
        }
        await Migrator.MigrateAsync(dataSource, logger, CancellationToken.None);
        // For experiments on the schema (say, without a constraint or an index): run after the migrations.
        if (Environment.GetEnvironmentVariable("BENCH_EXPERIMENT_SQL") is { Length: > 0 } experiment)
        {
            await using var x = dataSource.CreateCommand(experiment);
            await x.ExecuteNonQueryAsync();
        }
        return connectionString;
    }
}

internal static partial class Pgbench
{
    public static async Task<double> RunAsync(string connectionString, int clients, TimeSpan duration)
    {
        var csb = new NpgsqlConnectionStringBuilder(connectionString);
        await using (var dataSource = NpgsqlDataSource.Create(connectionString))
        await using (var setup = dataSource.CreateCommand(
            "create table if not exists bench_row (id int primary key, n bigint not null); " +
            "insert into bench_row values (1, 1000000000000) on conflict (id) do update set n = excluded.n"))
        {
            await setup.ExecuteNonQueryAsync();
        }
        var script = Path.GetTempFileName();
        await File.WriteAllTextAsync(script, "update bench_row set n = n - 1 where id = 1 and n > 0;\n");
        var binary = Path.Combine(LocalPostgres.FindBinDirectory(), "pgbench");
        var start = new ProcessStartInfo(binary,
            ["-n", "-f", script, "-c", clients.ToString(CultureInfo.InvariantCulture), "-j", "2",
             "-T", ((int)duration.TotalSeconds).ToString(CultureInfo.InvariantCulture),
             "-h", csb.Host!, "-p", csb.Port.ToString(CultureInfo.InvariantCulture), "-U", csb.Username!, csb.Database!])
        { RedirectStandardOutput = true, RedirectStandardError = true };
        if (!string.IsNullOrEmpty(csb.Password))
        {
            start.Environment["PGPASSWORD"] = csb.Password;
        }
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        File.Delete(script);
        var match = Tps().Match(output);
        if (process.ExitCode == 0 && !match.Success && output.Contains("number of transactions actually processed: 0\n", StringComparison.Ordinal))
        {
            // pgbench's -T includes connecting: at 256 clients on a loaded machine a 1-second smoke run can end
            // before any client has run a transaction. Nothing was measured, and the figure says so.
            return 0;
        }
        if (process.ExitCode != 0 || !match.Success)
        {
            throw new InvalidOperationException($"pgbench failed ({process.ExitCode}): {output} {error}");
        }
        return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"tps = ([0-9.]+) \(without initial connection time\)")]
    private static partial Regex Tps();
}

/// <summary>Tickets.Server (Release build) as a separate process, so its memory is its own.</summary>
internal sealed partial class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;

    private ServerProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public int ProcessId => _process.Id;

    public BenchTarget Target => new(BaseAddress, _process.Id);

    /// <param name="shipped">
    /// Null: the load phases' server (abuse limits off, no sweep timer). Otherwise the shipped settings with
    /// these changed (and the shipped sweep timer).
    /// </param>
    /// <param name="taskset">CPU list to pin the server to (taskset -c), or null.</param>
    public static async Task<ServerProcess> StartAsync(string root, string connectionString, string holdMode, int port,
        IReadOnlyDictionary<string, string>? shipped = null, string? taskset = null)
    {
        var dll = Path.Combine(root, "Tickets.Server", "bin", "Release", "net10.0", "Tickets.Server.dll");
        if (!File.Exists(dll))
        {
            throw new InvalidOperationException($"{dll} is missing: build it with dotnet build Tickets.Server -c Release (scripts/bench.sh does).");
        }
        var url = $"http://127.0.0.1:{port}";
        var start = new ProcessStartInfo(taskset is null ? "dotnet" : "taskset", taskset is null ? [dll, "--urls", url] : ["-c", taskset, "dotnet", dll, "--urls", url])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["ConnectionStrings__Tickets"] = new NpgsqlConnectionStringBuilder(connectionString) { MaxPoolSize = 100 }.ConnectionString;
        start.Environment["Jwt__SigningKey"] = "benchmark-only-signing-key-0123456789-abcdefghijklmnopqrstuvwxyz";
        start.Environment["Tickets__HoldMode"] = holdMode;
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        // The servers inherit the benchmark's environment (so Tickets__Batching__* and the like reach them as
        // they are); settings for the servers alone, not the load generator, go with a prefix:
        // BENCH_SERVER_DOTNET_gcServer=0 reaches the servers as DOTNET_gcServer=0.
        foreach (var (name, value) in Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .Select(e => ((string)e.Key, (string?)e.Value)).Where(e => e.Item1.StartsWith("BENCH_SERVER_", StringComparison.Ordinal)))
        {
            start.Environment[name["BENCH_SERVER_".Length..]] = value;
        }
        if (shipped is not null)
        {
            foreach (var (name, value) in shipped)
            {
                start.Environment[name] = value;
            }
            return await StartedAsync(start, url);
        }
        // The sweep phase runs the sweeper itself, to time it: the server's minute timer would be a second sweeper
        // at once, which production never has (the Functions timer runs on one instance at a time). Its schedule
        // is set to once a year here.
        start.Environment["Tickets__SweepSchedule"] = "0 0 0 1 1 *";
        // The load is a few hundred buyers on one address sending as fast as they can: abuse limits off, and events
        // without a per-user ticket limit, as before those defaults existed.
        start.Environment["RateLimits__WritesPerUserPerSecond"] = "0";
        start.Environment["RateLimits__AuthPerClientPerMinute"] = "0";
        start.Environment["RateLimits__HoldsPerClientPerMinute"] = "0";
        start.Environment["RateLimits__MaxActiveHoldsPerUser"] = "0";
        start.Environment["RateLimits__MaxHeldSeatsPerUser"] = "0";
        start.Environment["Tickets__DefaultMaxTicketsPerUser"] = "0";
        // Webhooks on, to a receiver of the benchmark's own on loopback (the webhooks phase and the confirm phase).
        start.Environment["Webhooks__SecretKey"] = "YmVuY2htYXJrLW9ubHktd2ViaG9vay1rZXktMDEyMzQ=";
        start.Environment["Webhooks__AllowHttp"] = "true";
        start.Environment["Webhooks__AllowLoopbackTargets"] = "true";
        return await StartedAsync(start, url);
    }

    private static async Task<ServerProcess> StartedAsync(ProcessStartInfo start, string url)
    {
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { Console.Error.WriteLine($"[server] {e.Data}"); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new ServerProcess(process, new Uri(url + "/api/"));
        using var client = new HttpClient();
        for (var attempt = 0; attempt < 100; attempt++)
        {
            try
            {
                using var response = await client.GetAsync(new Uri(server.BaseAddress, "health"));
                if (response.IsSuccessStatusCode)
                {
                    return server;
                }
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(200);
        }
        await server.DisposeAsync();
        throw new InvalidOperationException("Tickets.Server did not become healthy in 20 s.");
    }

    /// <summary>Peak resident set (VmHWM) of the server process, from /proc.</summary>
    public double PeakRssMegabytes()
    {
        var status = File.ReadAllText($"/proc/{_process.Id}/status");
        var match = VmHwm().Match(status);
        return match.Success ? double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) / 1024 : double.NaN;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    [GeneratedRegex(@"VmHWM:\s+(\d+) kB")]
    private static partial Regex VmHwm();
}

/// <summary>CPU seconds used so far by the benchmark itself, the server and all PostgreSQL processes (from /proc).</summary>
internal readonly record struct CpuSample(double Bench, double Server, double Postgres)
{
    private static readonly double TicksPerSecond = 100; // USER_HZ on Linux

    public static CpuSample Take(int serverPid)
    {
        double postgres = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            // A backend that exits (the pool closes idle connections, autovacuum workers come and go) takes its
            // CPU time with it, to the postmaster's reaped-children time: counted too, or a phase could show
            // less CPU than it used.
            if (int.TryParse(Path.GetFileName(dir), out var pid) && Read(pid) is { Comm: "postgres" } p)
            {
                postgres += p.Seconds + p.ReapedChildrenSeconds;
            }
        }
        return new CpuSample(Read(Environment.ProcessId)?.Seconds ?? 0, Read(serverPid)?.Seconds ?? 0, postgres);
    }

    public static CpuSample operator -(CpuSample a, CpuSample b) => new(a.Bench - b.Bench, a.Server - b.Server, a.Postgres - b.Postgres);

    public static CpuSample operator +(CpuSample a, CpuSample b) => new(a.Bench + b.Bench, a.Server + b.Server, a.Postgres + b.Postgres);

    private static (string Comm, double Seconds, double ReapedChildrenSeconds)? Read(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var close = stat.LastIndexOf(')');
            var comm = stat[(stat.IndexOf('(') + 1)..close];
            var fields = stat[(close + 2)..].Split(' ');
            // Fields after the command: state is [0], utime [11], stime [12], cutime [13], cstime [14].
            long Ticks(int field) => long.Parse(fields[field], CultureInfo.InvariantCulture);
            return (comm, (Ticks(11) + Ticks(12)) / TicksPerSecond, (Ticks(13) + Ticks(14)) / TicksPerSecond);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}

/// <summary>Which code a run measured: the commit, marked when the working tree had changes on top of it.</summary>
internal static class SourceVersion
{
    public static string Describe(string repositoryRoot)
    {
        var head = Git(repositoryRoot, "rev-parse", "--short", "HEAD");
        if (head is null)
        {
            return "an unknown commit (no git)";
        }
        return string.IsNullOrEmpty(Git(repositoryRoot, "status", "--porcelain", "--untracked-files=no")) ? head : $"{head} with uncommitted changes";
    }

    private static string? Git(string directory, params string[] arguments)
    {
        try
        {
            var start = new ProcessStartInfo("git") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in arguments)
            {
                start.ArgumentList.Add(argument);
            }
            using var git = Process.Start(start)!;
            var output = git.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            return git.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // git is not installed
        }
    }
}
