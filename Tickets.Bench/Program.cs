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

var commit = SourceVersion.Describe(root);
Console.WriteLine($"Tickets benchmark of {commit}: {Environment.ProcessorCount} cores, {settings.Rounds} rounds of {settings.Duration.TotalSeconds:0} s per phase " +
    $"(warm-up {settings.WarmUp.TotalSeconds:0} s on a phase's first round, {settings.RoundWarmUp.TotalSeconds:0} s after), connections {string.Join("/", settings.Connections)}");
var connectionString = await BenchDatabase.ResetAsync(loggerFactory);
await using var dataSource = NpgsqlDataSource.Create(connectionString);
var report = new BenchReport(settings, commit);

// Start-up first, while nothing else runs: each start is a new process, as a cold start on a consumption plan.
if (settings.Runs("startup"))
{
    var release = Path.Combine(root, "Tickets.Functions", "bin", "Release", "net10.0");
    List<WorkerBuild> builds = [new("Release build", release, new Dictionary<string, string>())];
    // scripts/bench.sh publishes the app as the deployment does (ReadyToRun, linux-x64) into this folder.
    var published = Path.Combine(root, "Tickets.Functions", "bin", "publish");
    if (File.Exists(Path.Combine(published, "Tickets.Functions.dll")))
    {
        builds.Add(new("publish (ReadyToRun)", published, new Dictionary<string, string>()));
        // Runtime settings tried against start-up (docs/benchmarks.md): BENCH_STARTUP_VARIANTS="NAME=VALUE;NAME=VALUE|…"
        // adds one worker variant per |-separated group.
        foreach (var variant in (Environment.GetEnvironmentVariable("BENCH_STARTUP_VARIANTS") ?? "").Split('|', StringSplitOptions.RemoveEmptyEntries))
        {
            var environment = variant.Split(';').Select(pair => pair.Split('=', 2)).ToDictionary(pair => pair[0], pair => pair[1]);
            builds.Add(new($"publish (ReadyToRun), {variant.Replace(";", ", ", StringComparison.Ordinal)}", published, environment));
        }
    }
    // The opt-in self-contained publish (-p:TicketsSelfContained=true: composite ReadyToRun of the app and .NET).
    var selfContained = Path.Combine(root, "Tickets.Functions", "bin", "publish-self-contained");
    if (File.Exists(Path.Combine(selfContained, "Tickets.Functions.dll")))
    {
        builds.Add(new("publish, self-contained (composite ReadyToRun)", selfContained, new Dictionary<string, string>()));
    }
    report.Startup = await StartupPhase.RunAsync(root, connectionString, dataSource, settings.Starts, builds);
}

// The database's cost of a hold batch, fixed part and per hold, also before anything else runs.
if (settings.Runs("batchcost"))
{
    (report.BatchCost, report.OutboxTriggers) = await BatchCostPhase.RunAsync(dataSource, settings.Rounds, holdsPerSize: 2048);
}
// And what delivering a webhook message costs it (claim and record, the sending left out).
if (settings.Runs("deliverycost"))
{
    report.DeliveryCost = await DeliveryCostPhase.RunAsync(connectionString, dataSource, messagesPerSize: 2000);
}

// The database's side of scale-out: hold combiners of 1, 2 and 4 instances in this process, no HTTP.
if (settings.Runs("instances"))
{
    report.Instances = await InstancesPhase.RunAsync(connectionString, dataSource, settings.ScaleOut, settings.Connections.Max(),
        settings.Duration, settings.WarmUp, settings.RoundWarmUp, settings.Rounds);
    report.InstancesGoals();
    await report.CheckInvariantAsync("after instances", dataSource);
}

// Both servers run for the whole benchmark (one process per hold mode, each on its own port and hot event), so
// that the phases can be interleaved: every phase once per round, rounds one after another. The ratios compare
// figures taken within the same few minutes, not at moments far apart on a machine whose speed drifts.
var batchedPhases = settings.Phases.Overlaps(["live", "hold", "webhooks", "lines", "keyed", "spread", "confirm", "sweep"]);
await using var batchedServer = batchedPhases ? await ServerProcess.StartAsync(root, connectionString, "Batched", 7181) : null;
await using var directServer = settings.Runs("direct") ? await ServerProcess.StartAsync(root, connectionString, "Direct", 7182) : null;
var batched = batchedServer is null ? null : await BenchClient.CreateAsync(batchedServer.BaseAddress, dataSource, settings.Connections.Max());
var direct = directServer is null ? null : await BenchClient.CreateAsync(directServer.BaseAddress, dataSource, settings.Connections.Max());
var directHot = direct is null ? default : await direct.CreateEventAsync("Hot event (Direct)", 10_000_000);
var hot = batched is null ? default : await batched.CreateEventAsync("Hot event", 10_000_000);
var typed = batched is not null && settings.Runs("lines") ? await batched.CreateTypedEventAsync("Hot event with 3 types", 10_000_000, 3) : default;
var spread = batched is not null && settings.Runs("spread")
    ? await Task.WhenAll(Enumerable.Range(0, 100).Select(i => batched.CreateEventAsync($"Event {i}", 10_000_000)))
    : [];
// Subscriptions exist from here on but are enabled only around the phases that measure them.
var hooks = batched is not null && settings.Runs("webhooks") ? await WebhookBench.CreateAsync(dataSource, batched) : null;

// Three warm-ups' worth of holds on each server before anything is measured (30 s by default: the tiered JIT settles
// about 25 s after a start under load); then each phase's own warm-up. With webhooks, one more with a subscriber, so
// that delivery's code is compiled too: otherwise the first hooked phase paid for it (the server's CPU per hooked
// hold 494 us in the first, 206 in the next, in one run).
if (batched is not null)
{
    await report.WarmUpServerAsync(batchedServer!.Target, batched.Hold(hot), settings.Connections.Max(), settings.WarmUp * 3);
    if (hooks is not null)
    {
        await hooks.WarmUpDeliveryAsync(() => report.WarmUpServerAsync(batchedServer.Target, batched.Hold(hot), settings.Connections.Max(),
            settings.WarmUp, "a reservation.held subscriber delivered to"));
    }
}
if (direct is not null)
{
    await report.WarmUpServerAsync(directServer!.Target, direct.Hold(directHot), settings.Connections.Max(), settings.WarmUp * 3);
}

for (var round = 1; round <= settings.Rounds; round++)
{
    foreach (var connections in settings.Connections)
    {
        if (direct is not null)
        {
            await report.RunAsync($"hold direct {connections}", "holds, one hot event, Direct", connections, directServer!.Target,
                direct.Hold(directHot), dataSource);
        }
        if (batched is null)
        {
            continue;
        }
        var target = batchedServer!.Target;
        if (settings.Runs("live"))
        {
            await report.RunAsync($"live {connections}", "GET /api/health/live", connections, target, batched.Live, dataSource);
        }
        if (settings.Runs("hold") || settings.Runs("confirm") || hooks is not null)
        {
            // Confirms need the holds this phase makes. With webhooks: no subscriber, the triggers' cost alone.
            await report.RunAsync($"hold batched {connections}", "holds, one hot event, Batched", connections, target, batched.Hold(hot), dataSource);
        }
        if (hooks is not null)
        {
            await hooks.WithoutTriggersAsync(() => report.RunAsync($"hold no triggers {connections}",
                "holds, one hot event, Batched, webhook triggers disabled (as before webhooks)", connections, target, batched.Hold(hot), dataSource));
            var deliveredBefore = hooks.Sink.Received;
            await hooks.WithHeldSubscriberAsync(() => report.RunAsync($"hold hooked {connections}",
                "holds, one hot event, Batched, a reservation.held subscriber on loopback", connections, target, batched.Hold(hot), dataSource));
            Console.WriteLine($"hold hooked {connections}: {hooks.Sink.Received - deliveredBefore:N0} reservation.held webhooks received during the phase");
            await hooks.WithHeldSubscriberDeferredAsync(() => report.RunAsync($"hold hooked deferred {connections}",
                "holds, one hot event, Batched, a reservation.held subscriber whose messages wait (delivery elsewhere)", connections, target, batched.Hold(hot), dataSource));
        }
        if (settings.Runs("lines"))
        {
            await report.RunAsync($"lines {connections}", "holds of 1–3 lines across 3 types, one hot event, Batched", connections, target,
                BenchClient.HoldLines(typed, batched), dataSource);
            report.TicketsPerLinesHold = batched.TicketsPerLinesHold;
        }
        if (settings.Runs("keyed"))
        {
            await report.RunAsync($"keyed {connections}", "holds with an Idempotency-Key each, one hot event, Batched", connections, target,
                batched.HoldWithKey(hot), dataSource);
        }
        if (settings.Runs("spread"))
        {
            await report.RunAsync($"spread {connections}", "holds over 100 events, Batched", connections, target, batched.HoldSpread(spread), dataSource);
        }
        if (settings.Runs("confirm") && hooks is not null)
        {
            var backlog = await hooks.WithConfirmedSubscriberAsync(round, settings.Duration, sampler => report.RunAsync($"confirm {connections}",
                "confirms of held reservations, a reservation.confirmed subscriber on loopback", connections, target, batched.Confirm, dataSource,
                alongside: sampler));
            report.WebhookBacklog.Add((connections, backlog));
            Console.WriteLine($"confirm {connections}: webhook backlog {backlog.PendingAtStart:N0} → max {backlog.PendingMax:N0} → {backlog.PendingAtEnd:N0}, " +
                $"growth {backlog.GrowthPerSecond:N1}/s, {backlog.Delivered:N0} delivered for {backlog.Confirms:N0} confirms in {backlog.Seconds:N1} s");
        }
        else if (settings.Runs("confirm"))
        {
            await report.RunAsync($"confirm {connections}", "confirms of held reservations", connections, target, batched.Confirm, dataSource);
        }
    }
    // The database's own single-row ceiling: one conditional decrement per transaction, as a hold does.
    if (!settings.SkipPgbench)
    {
        foreach (var clients in new[] { 1, 64, 256 })
        {
            var tps = await Pgbench.RunAsync(connectionString, clients, settings.Duration);
            (report.Pgbench.TryGetValue(clients, out var runs) ? runs : report.Pgbench[clients] = []).Add(tps);
            Console.WriteLine($"pgbench {clients,3} clients round {round}: {tps,10:N0} tps");
        }
    }
}

if (batched is not null && settings.Runs("sweep"))
{
    var baseline = settings.Connections.Min();
    var expired = await batched.CreateExpiredHoldsAsync(settings.SweepHolds);
    // The bulk insert above would set autovacuum and autoanalyze of reservations going in the middle of the holds
    // measured just before the sweep (in production holds arrive one batch at a time): done here, unmeasured.
    await using (var vacuum = dataSource.CreateCommand("vacuum (analyze) reservations"))
    {
        vacuum.CommandTimeout = 0;
        await vacuum.ExecuteNonQueryAsync();
    }
    // The sweep takes minutes: its cost to holds is measured against holds just before and just after it.
    await report.RunAsync($"hold before sweep {baseline}", "holds, hot event, just before the sweep", baseline,
        batchedServer!.Target, batched.Hold(hot), dataSource);
    var engine = new ReservationEngine(new Database(dataSource, NullLogger<Database>.Instance), NullLogger<ReservationEngine>.Instance);
    var sweepClock = new Stopwatch();
    Task<SweepResult>? sweep = null;
    await report.RunAsync($"hold+sweep {baseline}", $"holds, hot event, while the sweeper releases {expired:N0} expired holds", baseline,
        batchedServer.Target, batched.Hold(hot), dataSource, alongside: () => sweep = Task.Run(async () =>
        {
            sweepClock.Start();
            var released = await engine.ReleaseExpiredHoldsAsync(CancellationToken.None);
            sweepClock.Stop();
            return released;
        }));
    var released = await sweep!;
    await report.RunAsync($"hold after sweep {baseline}", "holds, hot event, just after the sweep", baseline,
        batchedServer.Target, batched.Hold(hot), dataSource);
    report.Sweep = new SweepFigures(released.Holds, sweepClock.Elapsed.TotalSeconds, released.Holds / sweepClock.Elapsed.TotalSeconds);
    // At least the holds inserted expired; more when earlier phases' holds reached their expiry during a long run
    // (they are the sweeper's too). That nothing expired was left behind is checked next.
    if (released.Holds < expired)
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
// wrk against servers at their shipped settings, each phase with servers of its own, after the others.
if (settings.Phases.Overlaps(["ceiling", "scaleout", "pgbouncer"]) && !Wrk.Available)
{
    report.Failures.Add("wrk is not installed (scripts/bench.sh installs it): the ceiling, scale-out and PgBouncer phases did not run");
}
else
{
    if (settings.Runs("ceiling"))
    {
        await WrkPhases.RunCeilingAsync(root, connectionString, dataSource, report, settings);
    }
    if (settings.Runs("scaleout"))
    {
        await WrkPhases.RunScaleOutAsync(root, connectionString, dataSource, report, settings);
    }
    if (settings.Runs("pgbouncer"))
    {
        await WrkPhases.RunPgBouncerAsync(root, connectionString, dataSource, report, settings);
    }
}
if (batchedServer is not null)
{
    report.PeakRssMb["Batched"] = batchedServer.PeakRssMegabytes();
}
if (directServer is not null)
{
    report.PeakRssMb["Direct"] = directServer.PeakRssMegabytes();
}

if (hooks is not null)
{
    await hooks.Sink.DisposeAsync();
}

report.Print();
if (settings.Out is { } outFile)
{
    await File.WriteAllTextAsync(outFile, report.ToJson());
    Console.WriteLine($"Figures written to {outFile}");
}
return report.Failures.Count == 0 ? 0 : 1;
