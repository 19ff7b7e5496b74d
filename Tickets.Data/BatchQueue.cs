using Microsoft.Extensions.Logging;
using Npgsql;

namespace Tickets.Data;

public sealed record BatchOptions
{
    /// <summary>Most requests decided in one transaction.</summary>
    public int MaxBatchSize { get; init; } = 512;

    /// <summary>Most requests waiting in this process; beyond it a request is refused as overloaded (503).</summary>
    public int MaxQueueLength { get; init; } = 20_000;

    /// <summary>
    /// Hold batches in flight at once. One: a second batch of the same hot event would only wait on the row
    /// lock with requests that could have joined the next batch (measured at 256 connections with whole
    /// batches in one round trip: 14–16k holds/s with one, 13–14k with two; before, at 64: 6.1k with one, 4.7k
    /// with two, 3.0k with four).
    /// </summary>
    public int MaxConcurrentHoldBatches { get; init; } = 1;

    /// <summary>
    /// Confirm/release batches in flight at once. Two: a change batch decided request by request makes three
    /// round trips (lock, read, write), and a second batch keeps the database busy meanwhile (measured before
    /// whole batches took one round trip: 4.9k confirms/s with two, 2.8k with one).
    /// </summary>
    public int MaxConcurrentChangeBatches { get; init; } = 2;
}

/// <summary>
/// Coalesces concurrent requests into shared transactions. There is no batching delay: with nothing in flight
/// a request starts a transaction at once, and requests arriving meanwhile form the next batch, so batches grow
/// with load and an idle system answers as fast as a direct call.
/// </summary>
public sealed class BatchQueue<TRequest, TResult>(
    Func<IReadOnlyList<TRequest>, Task<TResult[]>> runBatch,
    Func<TRequest, Task<TResult>> runAlone,
    TResult overloaded,
    BatchOptions options,
    int maxConcurrentBatches,
    ILogger logger)
{
    private readonly Queue<Waiter> _pending = new();
    private readonly Lock _gate = new();
    private int _draining;

    public Task<TResult> EnqueueAsync(TRequest request, CancellationToken cancellationToken)
    {
        var waiter = new Waiter(request, cancellationToken);
        bool startDrain;
        lock (_gate)
        {
            if (_pending.Count >= options.MaxQueueLength)
            {
                return Task.FromResult(overloaded);
            }
            _pending.Enqueue(waiter);
            startDrain = _draining < maxConcurrentBatches;
            if (startDrain)
            {
                _draining++;
            }
        }
        if (startDrain)
        {
            // A batch serves many requests: it must not run inside the first caller's context (its activity,
            // trace id and log scope would be stamped on everyone's work).
            using (ExecutionContext.SuppressFlow())
            {
                _ = Task.Run(DrainAsync, CancellationToken.None);
            }
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
                    // A caller that gave up before its turn is not served.
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
            await RunAsync(batch);
        }
    }

    private async Task RunAsync(List<Waiter> batch)
    {
        try
        {
            var results = await runBatch(batch.Select(w => w.Request).ToList());
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Completion.TrySetResult(results[i]);
            }
        }
        catch (PostgresException ex) when (!Database.IsUnavailable(ex))
        {
            // One bad request (say, a token of a user that no longer exists) must not fail its neighbours:
            // decide each alone, where the one-at-a-time path turns known errors into outcomes and anything
            // else reaches only the request that causes it.
            logger.LogWarning(ex, "Batch of {Count} failed; deciding each request alone", batch.Count);
            await Task.WhenAll(batch.Select(async w =>
            {
                try
                {
                    w.Completion.TrySetResult(await runAlone(w.Request));
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

    private sealed record Waiter(TRequest Request, CancellationToken CancellationToken)
    {
        public TaskCompletionSource<TResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
