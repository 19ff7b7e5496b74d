// The database's side of scale-out. In Azure every instance has CPU of its own, and what an on-sale meets is
// PostgreSQL: here 1, 2 and 4 "instances" (each a hold combiner with its own connection pool, its own engine
// and its own batch lane, as a process has) run in this process, driven by virtual buyers that cost next to
// nothing, with no HTTP in between, so that PostgreSQL, not four servers sharing two cores, is what saturates.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Tickets.Api;
using Tickets.Data;

namespace Tickets.Bench;

internal sealed record InstancesFigures(string Name, int Instances, bool OneEvent, int Clients, double Seconds, long Holds, long Refused,
    double HoldsPerSecond, double MeanBatch, double P50Ms, double P99Ms, double PostgresCpuPercent, double PostgresCpuMicrosPerHold,
    double BenchCpuMicrosPerHold, double LockWaitersMean, int LockWaitersMax, double ActiveBackendsMean);

internal static class InstancesPhase
{
    private sealed class Instance : IAsyncDisposable
    {
        private long _batches;
        private long _batched;

        public Instance(string connectionString)
        {
            DataSource = NpgsqlDataSource.Create(connectionString);
            var limits = new RateLimitOptions();
            var engine = new ReservationEngine(new Database(DataSource, NullLogger<Database>.Instance), NullLogger<ReservationEngine>.Instance)
            {
                MaxActiveHoldsPerUser = limits.MaxActiveHoldsPerUser,
                MaxHeldSeatsPerUser = limits.MaxHeldSeatsPerUser,
            };
            Combiner = new HoldCombiner(engine, new BatchOptions(), NullLogger<HoldCombiner>.Instance);
            Combiner.HoldBatchCompleted += (size, _) =>
            {
                Interlocked.Increment(ref _batches);
                Interlocked.Add(ref _batched, size);
            };
        }

        public NpgsqlDataSource DataSource { get; }

        public HoldCombiner Combiner { get; }

        public (long Batches, long Holds) Counts => (Interlocked.Read(ref _batches), Interlocked.Read(ref _batched));

        public ValueTask DisposeAsync() => DataSource.DisposeAsync();
    }

    /// <summary>
    /// Each count of instances on one hot event and on an event each, interleaved, <paramref name="rounds"/> times;
    /// <paramref name="clients"/> virtual buyers in all, each waiting for its answer before its next hold.
    /// </summary>
    public static async Task<List<InstancesFigures>> RunAsync(string connectionString, NpgsqlDataSource dataSource, int[] counts, int clients,
        TimeSpan duration, TimeSpan warmUp, TimeSpan roundWarmUp, int rounds)
    {
        var most = counts.Max();
        var instances = new List<Instance>();
        for (var i = 0; i < most; i++)
        {
            instances.Add(new Instance(connectionString));
        }
        try
        {
            var events = new EventStore(new Database(dataSource, NullLogger<Database>.Instance));
            var hot = (await events.CreateAsync(new NewEvent("Instances: hot event", 100_000_000), CancellationToken.None)).Id;
            var own = new List<Guid>();
            for (var i = 0; i < most; i++)
            {
                own.Add((await events.CreateAsync(new NewEvent($"Instances: event {i}", 100_000_000), CancellationToken.None)).Id);
            }
            // Buyers taken in turn: each holds a few times over the whole phase, well under the shipped caps (20).
            var buyers = await DatabaseCost.CreateBuyersAsync(dataSource, "instances", 100_000);
            var nextBuyer = -1;
            Guid Buyer() => buyers[(int)((uint)Interlocked.Increment(ref nextBuyer) % buyers.Count)];

            async Task<InstancesFigures?> Run(int count, bool oneEvent, TimeSpan measured, TimeSpan before)
            {
                var clock = new Stopwatch();
                var window = new CancellationTokenSource();
                long holds = 0, refused = 0;
                var latencies = Enumerable.Range(0, clients).Select(_ => new List<double>()).ToArray();
                var measuring = false;
                async Task Client(int c)
                {
                    var instance = instances[c % count];
                    var ev = oneEvent ? hot : own[c % count];
                    while (!window.IsCancellationRequested)
                    {
                        var sent = Stopwatch.GetTimestamp();
                        var result = await instance.Combiner.HoldAsync(new HoldRequest(Buyer(), ev, 1), CancellationToken.None);
                        if (!Volatile.Read(ref measuring) || window.IsCancellationRequested)
                        {
                            continue;
                        }
                        if (result.Outcome == HoldOutcome.Held)
                        {
                            Interlocked.Increment(ref holds);
                            latencies[c].Add(Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
                        }
                        else
                        {
                            Interlocked.Increment(ref refused);
                        }
                    }
                }
                var running = Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(() => Client(c))));
                await Task.Delay(before);
                var batchesBefore = instances.Take(count).Select(i => i.Counts).ToArray();
                var cpu = CpuSample.Take(Environment.ProcessId);
                // Backends waiting for a lock (on the hot event: its row, held by another instance's batch) and active.
                using var sampling = new CancellationTokenSource();
                var activity = measured == TimeSpan.Zero ? null : WrkPhases.SampleActivityAsync(dataSource, sampling.Token);
                clock.Start();
                Volatile.Write(ref measuring, true);
                await Task.Delay(measured);
                await window.CancelAsync();
                var seconds = clock.Elapsed.TotalSeconds;
                var used = CpuSample.Take(Environment.ProcessId) - cpu;
                await sampling.CancelAsync();
                var (lockMean, lockMax, activeMean, _) = activity is null ? default : await activity;
                var batchesAfter = instances.Take(count).Select(i => i.Counts).ToArray();
                await running;
                if (measured == TimeSpan.Zero)
                {
                    return null;
                }
                var batches = batchesAfter.Zip(batchesBefore, (a, b) => a.Batches - b.Batches).Sum();
                var batched = batchesAfter.Zip(batchesBefore, (a, b) => a.Holds - b.Holds).Sum();
                var all = latencies.SelectMany(l => l).Order().ToArray();
                double Percentile(double p) => all.Length == 0 ? double.NaN : all[Math.Min(all.Length - 1, (int)(p * all.Length))];
                var name = $"instances {count} {(oneEvent ? "hot" : "separate")}";
                var figures = new InstancesFigures(name, count, oneEvent, clients, seconds, holds, refused, holds / seconds,
                    batches == 0 ? double.NaN : (double)batched / batches, Percentile(0.5), Percentile(0.99),
                    100 * used.Postgres / seconds / Environment.ProcessorCount, holds == 0 ? double.NaN : used.Postgres * 1e6 / holds,
                    holds == 0 ? double.NaN : used.Bench * 1e6 / holds, lockMean, lockMax, activeMean);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{name,-26} {figures.HoldsPerSecond,9:N0} holds/s  batch {figures.MeanBatch,5:N1}  p99 {figures.P99Ms,6:N1} ms  pg {figures.PostgresCpuPercent:N0}% ({figures.PostgresCpuMicrosPerHold:N0} µs/hold)  this process {figures.BenchCpuMicrosPerHold:N0} µs/hold  lock waiters {lockMean:N1}/{lockMax}  active {activeMean:N1}  refused {refused}"));
                return figures;
            }

            var results = new List<InstancesFigures>();
            await Run(most, oneEvent: true, TimeSpan.Zero, warmUp);
            for (var round = 0; round < rounds; round++)
            {
                foreach (var count in counts)
                {
                    foreach (var oneEvent in new[] { true, false })
                    {
                        if (count == 1 && !oneEvent)
                        {
                            continue; // one instance on its own event is the hot case
                        }
                        results.Add((await Run(count, oneEvent, duration, roundWarmUp))!);
                    }
                }
            }
            return results;
        }
        finally
        {
            foreach (var instance in instances)
            {
                await instance.DisposeAsync();
            }
        }
    }

    public static string Table(IReadOnlyList<InstancesFigures> figures)
    {
        var text = new StringBuilder();
        text.AppendLine("| phase | instances | buyers | holds/s | holds per batch | p50 ms | p99 ms | PostgreSQL CPU | PG CPU µs/hold | this process µs/hold | lock waiters mean/max | active backends mean | refused |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|");
        foreach (var f in figures)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {f.Name} | {f.Instances} | {f.Clients} | {f.HoldsPerSecond:N0} | {f.MeanBatch:N1} | {f.P50Ms:N1} | {f.P99Ms:N1} | {f.PostgresCpuPercent:N0}% | {f.PostgresCpuMicrosPerHold:N0} | {f.BenchCpuMicrosPerHold:N0} | {f.LockWaitersMean:N1} / {f.LockWaitersMax} | {f.ActiveBackendsMean:N1} | {f.Refused:N0} |");
        }
        return text.ToString();
    }
}
