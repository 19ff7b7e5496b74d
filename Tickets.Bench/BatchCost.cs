// What a hold batch costs PostgreSQL whatever its size, and what each hold in it adds: whole batches of 1, 4, 16
// and 64 holds of one hot event, sent one after another on one connection with the shipped caps on, the backend's
// CPU time read from /proc/<pid>/schedstat. Smaller batches per instance (scale-out) pay the fixed part more often.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Tickets.Api;
using Tickets.Data;

namespace Tickets.Bench;

internal sealed record BatchCostFigures(int Size, int Batches, double CpuMicrosPerBatch, double WallMicrosPerBatch)
{
    public double CpuMicrosPerHold => CpuMicrosPerBatch / Size;
}

/// <summary>
/// CPU per hold in batches of <see cref="BatchCostPhase.TriggerBatchSize"/>, the outbox triggers on (no subscriber) and
/// off, in pairs of runs back to back: the median of the pairs' ratios, which a checkpoint or an autovacuum landing in
/// one run does not move.
/// </summary>
internal sealed record OutboxTriggerCost(double OnMicrosPerHold, double OffMicrosPerHold, double[] PairRatios)
{
    public double Ratio => PairRatios.Order().ElementAt(PairRatios.Length / 2);
}

internal static class BatchCostPhase
{
    private static readonly int[] Sizes = [1, 4, 16, 64];

    public const int TriggerBatchSize = 16;
    private const int TriggerBatches = 150;
    private const int TriggerPairs = 9;

    /// <summary>
    /// Each size in turn, <paramref name="rounds"/> times (the sizes interleaved), <paramref name="holdsPerSize"/> holds a
    /// round; a warm-up of each size first. Only a PostgreSQL on this machine: its backend's CPU is read from /proc.
    /// </summary>
    public static async Task<(List<BatchCostFigures> Sizes, OutboxTriggerCost Triggers)> RunAsync(NpgsqlDataSource dataSource, int rounds, int holdsPerSize)
    {
        var database = new Database(dataSource, NullLogger<Database>.Instance);
        var limits = new RateLimitOptions();
        var engine = new ReservationEngine(database, NullLogger<ReservationEngine>.Instance)
        {
            MaxActiveHoldsPerUser = limits.MaxActiveHoldsPerUser,
            MaxHeldSeatsPerUser = limits.MaxHeldSeatsPerUser,
        };
        var ev = await new EventStore(database).CreateAsync(new NewEvent("Batch cost", 100_000_000), CancellationToken.None);
        var warmUp = Sizes.Sum(size => 20 * size);
        // A buyer per hold, so that no per-buyer cap is reached.
        var buyers = await DatabaseCost.CreateBuyersAsync(dataSource, "batch-cost",
            warmUp + (rounds * Sizes.Length * holdsPerSize) + (2 * TriggerPairs * (TriggerBatches + 5) * TriggerBatchSize));
        var next = 0;
        await using var lane = engine.NewLane();
        var backend = await (await lane.OpenAsync(CancellationToken.None)).ExecuteScalarAsync<int>("select pg_backend_pid()");
        long CpuNanoseconds() => DatabaseCost.CpuNanoseconds(backend);

        async Task<(double Cpu, double Wall)> RunBatchesAsync(int size, int batches)
        {
            var cpu = CpuNanoseconds();
            var clock = Stopwatch.StartNew();
            for (var b = 0; b < batches; b++)
            {
                var requests = Enumerable.Range(0, size).Select(_ => new HoldRequest(buyers[next++], ev.Id, 1)).ToList();
                var (results, whole) = await engine.HoldBatchAsync(requests, CancellationToken.None, lane);
                if (!whole || results.Any(r => r.Outcome != HoldOutcome.Held))
                {
                    throw new InvalidOperationException($"A batch of {size} holds was not granted whole.");
                }
            }
            return ((CpuNanoseconds() - cpu) / 1000.0, clock.Elapsed.TotalMicroseconds);
        }

        foreach (var size in Sizes)
        {
            await RunBatchesAsync(size, 20);
        }
        var totals = Sizes.ToDictionary(size => size, _ => (Batches: 0, Cpu: 0.0, Wall: 0.0));
        for (var round = 0; round < rounds; round++)
        {
            foreach (var size in Sizes)
            {
                var batches = holdsPerSize / size;
                var (cpu, wall) = await RunBatchesAsync(size, batches);
                var t = totals[size];
                totals[size] = (t.Batches + batches, t.Cpu + cpu, t.Wall + wall);
            }
        }
        var figures = Sizes.Select(size => new BatchCostFigures(size, totals[size].Batches,
            totals[size].Cpu / totals[size].Batches, totals[size].Wall / totals[size].Batches)).ToList();
        var (fixedPart, perHold) = Fit(figures);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"batch cost: {string.Join(", ", figures.Select(f => $"{f.Size}: {f.CpuMicrosPerBatch:N0} µs"))} of PostgreSQL CPU per batch; fixed {fixedPart:N0} µs, each hold {perHold:N0} µs"));

        // The outbox triggers' cost with no subscriber: pairs of runs with and without them, the order alternating.
        var pairs = new List<(double On, double Off)>();
        try
        {
            for (var pair = 0; pair < TriggerPairs; pair++)
            {
                async Task<double> MicrosPerHoldAsync(bool enabled)
                {
                    await WebhookBench.SetOutboxTriggersAsync(dataSource, enabled);
                    await RunBatchesAsync(TriggerBatchSize, 5); // the batch statement planned again after the ALTER TABLE
                    return (await RunBatchesAsync(TriggerBatchSize, TriggerBatches)).Cpu / (TriggerBatches * TriggerBatchSize);
                }
                var onFirst = pair % 2 == 0;
                var first = await MicrosPerHoldAsync(onFirst);
                var second = await MicrosPerHoldAsync(!onFirst);
                pairs.Add(onFirst ? (first, second) : (second, first));
            }
        }
        finally
        {
            await WebhookBench.SetOutboxTriggersAsync(dataSource, enabled: true);
        }
        var triggers = new OutboxTriggerCost(pairs.Average(p => p.On), pairs.Average(p => p.Off), pairs.Select(p => p.On / p.Off).ToArray());
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"outbox triggers, no subscriber, batches of {TriggerBatchSize}: {triggers.OnMicrosPerHold:N1} µs per hold against {triggers.OffMicrosPerHold:N1} without; median of {TriggerPairs} pairs {triggers.Ratio:N2} ({triggers.PairRatios.Min():N2}–{triggers.PairRatios.Max():N2})"));
        return (figures, triggers);
    }

    /// <summary>Least squares of CPU per batch against holds per batch: the fixed part and the part per hold.</summary>
    public static (double Fixed, double PerHold) Fit(IReadOnlyList<BatchCostFigures> figures)
    {
        var meanSize = figures.Average(f => (double)f.Size);
        var meanCpu = figures.Average(f => f.CpuMicrosPerBatch);
        var perHold = figures.Sum(f => (f.Size - meanSize) * (f.CpuMicrosPerBatch - meanCpu)) / figures.Sum(f => (f.Size - meanSize) * (f.Size - meanSize));
        return (meanCpu - (perHold * meanSize), perHold);
    }

    public static string Table(IReadOnlyList<BatchCostFigures> figures, OutboxTriggerCost? triggers)
    {
        var text = new StringBuilder();
        text.AppendLine("| holds per batch | batches | PostgreSQL CPU µs per batch | per hold | wall µs per batch |");
        text.AppendLine("|---:|---:|---:|---:|---:|");
        foreach (var f in figures)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {f.Size} | {f.Batches:N0} | {f.CpuMicrosPerBatch:N0} | {f.CpuMicrosPerHold:N0} | {f.WallMicrosPerBatch:N0} |");
        }
        var (fixedPart, perHold) = Fit(figures);
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"Fitted: {fixedPart:N0} µs per batch whatever its size, plus {perHold:N0} µs per hold. A batch of n holds costs each hold {perHold:N0} + {fixedPart:N0}/n µs.");
        if (triggers is not null)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"The outbox triggers with no subscriber, batches of {TriggerBatchSize} in pairs of runs with and without them: {triggers.OnMicrosPerHold:N1} µs per hold against {triggers.OffMicrosPerHold:N1}; the median of the pairs' ratios {triggers.Ratio:N2} ({triggers.PairRatios.Min():N2}–{triggers.PairRatios.Max():N2}).");
        }
        return text.ToString();
    }
}

/// <summary>What the cost phases share: buyers made in bulk, and a PostgreSQL backend's CPU time.</summary>
internal static class DatabaseCost
{
    public static async Task<List<Guid>> CreateBuyersAsync(NpgsqlDataSource dataSource, string phase, int count)
    {
        const string sql = """
            insert into users (id, email, email_key, password_hash, role)
            select gen_random_uuid(), @Prefix || g || '@bench.test', @Prefix || g || '@bench.test', 'not a hash', 'user'
            from generate_series(1, @Count) g
            returning id
            """;
        await using var connection = await dataSource.OpenConnectionAsync();
        return (await connection.QueryAsync<Guid>(sql, new { Prefix = $"{phase}-{Guid.NewGuid():N}-", Count = count })).AsList();
    }

    /// <summary>The backend's time on a CPU so far (the first field of /proc/PID/schedstat, in nanoseconds): only for a PostgreSQL on this machine.</summary>
    public static long CpuNanoseconds(int backendPid) =>
        long.Parse(File.ReadAllText($"/proc/{backendPid}/schedstat").Split(' ')[0], CultureInfo.InvariantCulture);
}
