using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Tickets.Data;

public sealed record HoldCombinerOptions
{
    /// <summary>Most holds decided in one transaction.</summary>
    public int MaxBatchSize { get; init; } = 512;

    /// <summary>Most holds waiting for one event; beyond it a request is refused as overloaded (503).</summary>
    public int MaxQueueLength { get; init; } = 20_000;
}

/// <summary>
/// Coalesces concurrent holds of the same event into one transaction: the event row is locked once, requests
/// are decided in arrival order by the same code as a single hold (<see cref="ReservationEngine.HoldInTransactionAsync"/>),
/// granted reservations are inserted with one statement and the counters updated once, then every waiter gets
/// its own answer. On a hot event PostgreSQL serialises writers on that row one commit at a time, so one
/// transaction per request caps an on-sale at a few hundred holds a second; a batch pays that price once.
/// There is no batching delay: an idle event's first request starts a transaction at once, and requests that
/// arrive while it runs form the next batch.
/// </summary>
public sealed class HoldCombiner(Database database, ReservationEngine engine, HoldCombinerOptions options, ILogger<HoldCombiner> logger)
{
    private readonly ConcurrentDictionary<Guid, EventQueue> _queues = new();

    /// <summary>Raised after each batch with its size (for metrics).</summary>
    public event Action<int>? BatchCompleted;

    public Task<HoldResult> HoldAsync(HoldRequest request, CancellationToken cancellationToken)
    {
        if (!ReservationEngine.IsValidQuantity(request.Quantity))
        {
            return Task.FromResult(new HoldResult(HoldOutcome.InvalidQuantity));
        }
        var queue = _queues.GetOrAdd(request.EventId, static id => new EventQueue(id));
        var waiter = new Waiter(request, cancellationToken);
        bool startDrain;
        lock (queue)
        {
            if (queue.Pending.Count >= options.MaxQueueLength)
            {
                return Task.FromResult(new HoldResult(HoldOutcome.Overloaded));
            }
            queue.Pending.Enqueue(waiter);
            startDrain = !queue.Draining;
            queue.Draining = true;
        }
        if (startDrain)
        {
            _ = Task.Run(() => DrainAsync(queue), CancellationToken.None);
        }
        return waiter.Completion.Task.WaitAsync(cancellationToken);
    }

    private async Task DrainAsync(EventQueue queue)
    {
        var batch = new List<Waiter>(Math.Min(options.MaxBatchSize, 64));
        while (true)
        {
            batch.Clear();
            lock (queue)
            {
                while (batch.Count < options.MaxBatchSize && queue.Pending.TryDequeue(out var next))
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
                    queue.Draining = false;
                    return;
                }
            }
            await RunBatchAsync(queue.EventId, batch);
            BatchCompleted?.Invoke(batch.Count);
        }
    }

    private async Task RunBatchAsync(Guid eventId, List<Waiter> batch)
    {
        var requests = batch.Select(w => w.Request).ToList();
        try
        {
            // Not the callers' tokens: one client hanging up must not roll back everyone else's holds.
            var results = await database.InTransactionAsync(
                (connection, transaction, ct) => engine.HoldInTransactionAsync(connection, transaction, eventId, requests, ct),
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
            logger.LogWarning(ex, "Hold batch of {Count} for {EventId} failed; deciding each request alone", batch.Count, eventId);
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

    private sealed class EventQueue(Guid eventId)
    {
        public Guid EventId { get; } = eventId;
        public Queue<Waiter> Pending { get; } = new();
        public bool Draining { get; set; }
    }

    private sealed record Waiter(HoldRequest Request, CancellationToken CancellationToken)
    {
        public TaskCompletionSource<HoldResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
