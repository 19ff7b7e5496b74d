using Microsoft.Extensions.Logging;
using Npgsql;

namespace Tickets.Data;

public sealed record HoldCombinerOptions
{
    /// <summary>Most holds decided in one transaction.</summary>
    public int MaxBatchSize { get; init; } = 512;

    /// <summary>Most holds waiting in this process; beyond it a request is refused as overloaded (503).</summary>
    public int MaxQueueLength { get; init; } = 20_000;

    /// <summary>
    /// Batch transactions in flight at once. Two keep the database busy: while one commits (a WAL flush),
    /// the next has already sent its statements and waits for the row lock.
    /// </summary>
    public int MaxConcurrentBatches { get; init; } = 2;
}

/// <summary>
/// Coalesces concurrent holds into shared transactions: each batch locks its events' rows once, decides its
/// requests in arrival order with the same code as a single hold (<see cref="ReservationEngine.HoldInTransactionAsync"/>),
/// inserts the granted reservations with one statement, updates the counters once and commits once; then every
/// waiter gets its own answer. On a hot event PostgreSQL serialises writers on the event row one commit at a
/// time, so one transaction per request caps an on-sale at a few hundred holds a second; a batch pays that
/// price once. There is no batching delay: with nothing in flight, a request starts a transaction at once, and
/// requests arriving meanwhile form the next batch.
/// </summary>
public sealed class HoldCombiner(Database database, ReservationEngine engine, HoldCombinerOptions options, ILogger<HoldCombiner> logger)
{
    private readonly Queue<Waiter> _pending = new();
    private readonly Lock _gate = new();
    private int _draining;

    /// <summary>Raised after each batch with its size (for metrics).</summary>
    public event Action<int>? BatchCompleted;

    public Task<HoldResult> HoldAsync(HoldRequest request, CancellationToken cancellationToken)
    {
        if (!ReservationEngine.IsValidQuantity(request.Quantity))
        {
            return Task.FromResult(new HoldResult(HoldOutcome.InvalidQuantity));
        }
        var waiter = new Waiter(request, cancellationToken);
        bool startDrain;
        lock (_gate)
        {
            if (_pending.Count >= options.MaxQueueLength)
            {
                return Task.FromResult(new HoldResult(HoldOutcome.Overloaded));
            }
            _pending.Enqueue(waiter);
            startDrain = _draining < options.MaxConcurrentBatches;
            if (startDrain)
            {
                _draining++;
            }
        }
        if (startDrain)
        {
            _ = Task.Run(DrainAsync, CancellationToken.None);
        }
        return waiter.Completion.Task.WaitAsync(cancellationToken);
    }

    private async Task DrainAsync()
    {
        while (true)
        {
            var batch = new List<Waiter>();
            lock (_gate)
            {
                while (batch.Count < options.MaxBatchSize && _pending.TryDequeue(out var next))
                {
                    // A caller that gave up before its turn is not held for.
                    if (next.CancellationToken.IsCancellationRequested)
                    {
                        next.Completion.TrySetCanceled(next.CancellationToken);
                        continue;
                    }
                    batch.Add(next);
                }
                if (batch.Count == 0)
                {
                    _draining--;
                    return;
                }
            }
            await RunBatchAsync(batch);
            BatchCompleted?.Invoke(batch.Count);
        }
    }

    private async Task RunBatchAsync(List<Waiter> batch)
    {
        var requests = batch.Select(w => w.Request).ToList();
        try
        {
            // Not the callers' tokens: one client hanging up must not roll back everyone else's holds.
            var results = await database.InTransactionAsync(
                (connection, transaction, ct) => engine.HoldInTransactionAsync(connection, transaction, requests, ct),
                CancellationToken.None);
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Completion.TrySetResult(results[i]);
            }
        }
        catch (PostgresException ex) when (batch.Count > 1 && !Database.IsUnavailable(ex))
        {
            // One bad request (say, a token of a user that no longer exists) must not fail its neighbours:
            // decide each alone, so the error reaches only the request that causes it.
            logger.LogWarning(ex, "Hold batch of {Count} failed; deciding each request alone", batch.Count);
            await Task.WhenAll(batch.Select(async w =>
            {
                try
                {
                    w.Completion.TrySetResult(await engine.HoldAsync(w.Request, CancellationToken.None));
                }
                catch (Exception single)
                {
                    w.Completion.TrySetException(single);
                }
            }));
        }
        catch (Exception ex)
        {
            foreach (var waiter in batch)
            {
                waiter.Completion.TrySetException(ex);
            }
        }
    }

    private sealed record Waiter(HoldRequest Request, CancellationToken CancellationToken)
    {
        public TaskCompletionSource<HoldResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
