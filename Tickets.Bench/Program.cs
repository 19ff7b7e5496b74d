// The on-sale benchmark. One run measures every phase side by side on the same machine with the same load
// generator, checks the invariant after each phase, and prints throughput, latency and the goal ratios.
// Latencies are closed-loop (each connection waits for its answer before sending the next request), so they
// understate what an open-loop arrival process would see under overload; the table says so.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Tickets.Bench;
using Tickets.Data;

var settings = BenchSettings.Parse(args);
using var loggerFactory = LoggerFactory.Create(l => l.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning));
var root = LocalPostgres.FindRepositoryRoot() ?? throw new InvalidOperationException("Run from inside the repository.");

Console.WriteLine($"Tickets benchmark: {Environment.ProcessorCount} cores, {settings.Duration.TotalSeconds:0} s per phase after {settings.WarmUp.TotalSeconds:0} s of warm-up, connections {string.Join("/", settings.Connections)}");
var connectionString = await BenchDatabase.ResetAsync(loggerFactory);
await using var dataSource = NpgsqlDataSource.Create(connectionString);
var report = new BenchReport(settings);

// The database's own single-row ceiling: one conditional decrement per transaction, as a hold does.
if (!settings.SkipPgbench)
{
    foreach (var clients in new[] { 1, 64, 256 })
    {
        report.Pgbench[clients] = await Pgbench.RunAsync(connectionString, clients, settings.Duration);
        Console.WriteLine($"pgbench single-row update, {clients,3} clients: {report.Pgbench[clients],10:N0} tps");
    }
}

foreach (var mode in new[] { "Direct", "Batched" })
{
    var batched = mode == "Batched";
    if (batched ? !settings.Phases.Overlaps(["live", "hold", "keyed", "spread", "confirm", "sweep"]) : !settings.Runs("direct"))
    {
        continue;
    }
    await using var server = await ServerProcess.StartAsync(root, connectionString, mode);
    report.BaseAddress = server.BaseAddress;
    report.ServerPid = server.ProcessId;
    var bench = await BenchClient.CreateAsync(server.BaseAddress, dataSource, settings.Connections.Max());
    var hot = await bench.CreateEventAsync("Hot event", 10_000_000);
    var spread = batched && settings.Runs("spread")
        ? await Task.WhenAll(Enumerable.Range(0, 100).Select(i => bench.CreateEventAsync($"Event {i}", 10_000_000)))
        : [];

    foreach (var connections in settings.Connections)
    {
        if (batched && settings.Runs("live"))
        {
            await report.RunAsync($"live {connections}", "GET /api/health/live", connections, bench.Live, dataSource);
        }
        if (!batched || settings.Runs("hold") || settings.Runs("confirm"))
        {
            // Confirms need the holds this phase makes.
            await report.RunAsync($"hold {mode.ToLowerInvariant()} {connections}", $"holds, one hot event, {mode}", connections, bench.Hold(hot), dataSource);
        }
        if (batched && settings.Runs("keyed"))
        {
            await report.RunAsync($"keyed {connections}", "holds with an Idempotency-Key each, one hot event, Batched", connections,
                bench.HoldWithKey(hot), dataSource);
        }
        if (batched && settings.Runs("spread"))
        {
            await report.RunAsync($"spread {connections}", "holds over 100 events, Batched", connections, bench.HoldSpread(spread), dataSource);
        }
        if (batched && settings.Runs("confirm"))
        {
            await report.RunAsync($"confirm {connections}", "confirms of held reservations", connections, bench.Confirm, dataSource);
        }
    }
    if (batched && settings.Runs("sweep"))
    {
        var baseline = settings.Connections.Min();
        var expired = await bench.CreateExpiredHoldsAsync(100_000);
        var engine = new ReservationEngine(new Database(dataSource, NullLogger<Database>.Instance), NullLogger<ReservationEngine>.Instance);
        var sweepClock = Stopwatch.StartNew();
        var sweep = Task.Run(async () =>
        {
            var released = await engine.ReleaseExpiredHoldsAsync(CancellationToken.None);
            sweepClock.Stop();
            return released;
        });
        await report.RunAsync($"hold+sweep {baseline}", "holds, hot event, while the sweeper releases 100,000 expired holds", baseline,
            bench.Hold(hot), dataSource, until: sweep);
        var released = await sweep;
        report.Sweep = new SweepFigures(released.Holds, sweepClock.Elapsed.TotalSeconds, released.Holds / sweepClock.Elapsed.TotalSeconds);
        if (released.Holds != expired)
        {
            report.Failures.Add($"the sweeper released {released.Holds} of {expired} expired holds");
        }
        // The one sweeper of the phase must have left nothing behind.
        await using (var check = dataSource.CreateCommand("select count(*)::int from reservations where status = 'HOLD' and expires_at < now() - interval '5 seconds'"))
        {
            var left = (int)(await check.ExecuteScalarAsync())!;
            if (left > 0)
            {
                report.Failures.Add($"{left} of {expired} expired holds were not released by the sweeper");
            }
        }
        await report.CheckInvariantAsync("after sweep", dataSource);
    }
    report.PeakRssMb[mode] = server.PeakRssMegabytes();
}

report.Print();
if (settings.Out is { } outFile)
{
    await File.WriteAllTextAsync(outFile, report.ToJson());
    Console.WriteLine($"Figures written to {outFile}");
}
return report.Failures.Count == 0 ? 0 : 1;
