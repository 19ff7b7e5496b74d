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
    /// Hold batches in flight at once. Since whole batches write their rows before they take the events' locks,
    /// a second batch overlaps the first's decision and commit; but every batch in flight is one more taking a
    /// hot event's row lock in turn, and on a consumption plan an on-sale runs many instances. So the second
    /// starts only when <see cref="ExtraHoldBatchMinimum"/> holds wait. Measured on the database's side
    /// (docs/benchmarks.md, "Late locking"): one instance 12.5–14.9k holds/s against 8.3–11.6k with one batch;
    /// four instances 8.0–12.4k against 8.0–8.3k (their queues rarely reach the minimum). Two without the
    /// minimum cost four instances a third: 5.2–7.4k.
    /// </summary>
    public int MaxConcurrentHoldBatches { get; init; } = 2;

    /// <summary>
    /// Requests that must be waiting before a hold batch starts beside one already in flight. A batch pays a fixed
    /// part whatever its size (about a millisecond of PostgreSQL CPU) and takes the hot event's row lock in turn
    /// with every other batch of that event, from every instance: a second lane pays only when it cannot shrink
    /// batches below this. 64 keeps that fixed part under about a fifth of a hold's cost.
    /// </summary>
    public int ExtraHoldBatchMinimum { get; init; } = 64;

    /// <summary>
    /// Confirm/release batches in flight at once. Two: a change batch decided request by request makes three
    /// round trips (lock, read, write), and a second batch keeps the database busy meanwhile (measured before
    /// whole batches took one round trip: 4.9k confirms/s with two, 2.8k with one).
    /// </summary>
    public int MaxConcurrentChangeBatches { get; init; } = 2;

    /// <summary>
    /// How long a queue keeps its connection after it ran empty, for the next batch to use: under load a queue
    /// empties between batches all the time, and a batch on a connection fresh from the pool ran on another
    /// PostgreSQL backend each time (the pool hands out its idle connections in turn): up to a third fewer holds/s.
    /// </summary>
    public TimeSpan KeepConnectionIdle { get; init; } = TimeSpan.FromSeconds(1);
}

/// <summary>
/// Coalesces concurrent requests into shared transactions. There is no batching delay: with nothing in flight
/// a request starts a transaction at once, and requests arriving meanwhile form the next batch, so batches grow
/// with load and an idle system answers as fast as a direct call. Batches run on the queue's own connections
/// (<see cref="ConnectionLane"/>, one per batch in flight), kept while batches follow each other and returned to
/// the pool once the queue has been idle for <see cref="BatchOptions.KeepConnectionIdle"/>.
/// </summary>
public sealed class BatchQueue<TRequest, TResult>(
    Func<IReadOnlyList<TRequest>, ConnectionLane, Task<TResult[]>> runBatch,
    Func<ConnectionLane> newLane,
    Func<TRequest, Task<TResult>> runAlone,
    TResult overloaded,
    BatchOptions options,
    int maxConcurrentBatches,
    int extraBatchMinimum,
    ILogger logger)
{
    private readonly Queue<Waiter> _pending = new();
    private readonly Lock _gate = new();
    private readonly List<IdleLane> _idleLanes = [];
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
            // The first batch goes at once; another beside it only when enough wait to fill it.
            startDrain = _draining == 0 || (_draining < maxConcurrentBatches && _pending.Count >= extraBatchMinimum);
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
        ConnectionLane lane;
        lock (_gate)
        {
            if (_idleLanes.Count == 0)
            {
                lane = newLane();
            }
            else
            {
                lane = _idleLanes[^1].Lane;
                _idleLanes.RemoveAt(_idleLanes.Count - 1);
            }
        }
        while (true)
        {
            var batch = new List<Waiter>();
            IdleLane? idle = null;
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
                    idle = new IdleLane(lane);
                    _idleLanes.Add(idle);
                }
            }
            if (idle is not null)
            {
                _ = ReleaseWhenStillIdleAsync(idle);
                return;
            }
            await RunAsync(batch, lane);
        }
    }

    private async Task ReleaseWhenStillIdleAsync(IdleLane idle)
    {
        await Task.Delay(options.KeepConnectionIdle > TimeSpan.Zero ? options.KeepConnectionIdle : TimeSpan.Zero, CancellationToken.None);
        lock (_gate)
        {
            // Taken by a drain since (and perhaps put back again, as another idle spell of its own).
            if (!_idleLanes.Remove(idle))
            {
                return;
            }
        }
        await idle.Lane.DisposeAsync();
    }

    private async Task RunAsync(List<Waiter> batch, ConnectionLane lane)
    {
        try
        {
            var results = await runBatch(batch.Select(w => w.Request).ToList(), lane);
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

    /// <summary>A lane waiting for the next drain; each idle spell is its own instance.</summary>
    private sealed class IdleLane(ConnectionLane lane)
    {
        public ConnectionLane Lane { get; } = lane;
    }

    private sealed record Waiter(TRequest Request, CancellationToken CancellationToken)
    {
        public TaskCompletionSource<TResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
