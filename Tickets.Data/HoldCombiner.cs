using Microsoft.Extensions.Logging;

namespace Tickets.Data;

/// <summary>
/// The batched path for holds, confirms and releases. On a hot event PostgreSQL serialises writers on the
/// event row one commit at a time, so one transaction per request caps an on-sale at a few hundred requests a
/// second; here each batch locks its events' rows once (in id order), decides its requests in arrival order
/// with the same code as the one-at-a-time path (<see cref="ReservationEngine.HoldInTransactionAsync"/>,
/// <see cref="ReservationEngine.ChangeInTransactionAsync"/>), writes with one statement per table and commits
/// once; then every caller gets its own answer. A batch in which every request succeeds — the common case until
/// an event nearly sells out — is applied whole, in a single round trip when it carries no idempotency keys
/// (<see cref="ReservationEngine.HoldBatchAsync"/>, <see cref="ReservationEngine.ChangeBatchAsync"/>).
/// </summary>
public sealed class HoldCombiner
{
    private readonly BatchQueue<HoldRequest, HoldResult> _holds;
    private readonly BatchQueue<ChangeRequest, ChangeResult> _changes;

    public HoldCombiner(ReservationEngine engine, BatchOptions options, ILogger<HoldCombiner> logger)
    {
        // Not the callers' tokens: one client hanging up must not roll back everyone else's batch.
        _holds = new BatchQueue<HoldRequest, HoldResult>(
            async (requests, lane) =>
            {
                var (results, whole) = await engine.HoldBatchAsync(requests, CancellationToken.None, lane);
                HoldBatchCompleted?.Invoke(requests.Count, whole);
                return results;
            },
            engine.NewLane,
            request => engine.HoldAsync(request, CancellationToken.None),
            new HoldResult(HoldOutcome.Overloaded), options, options.MaxConcurrentHoldBatches,
            options.ExtraHoldBatchMinimum, logger);
        _changes = new BatchQueue<ChangeRequest, ChangeResult>(
            async (requests, lane) =>
            {
                var (results, whole) = await engine.ChangeBatchAsync(requests, CancellationToken.None, lane);
                ChangeBatchCompleted?.Invoke(requests.Count, whole);
                return results;
            },
            engine.NewLane,
            request => engine.ChangeAsync(request, CancellationToken.None),
            new ChangeResult(ChangeOutcome.Overloaded), options, options.MaxConcurrentChangeBatches,
            extraBatchMinimum: 0, logger);
    }

    /// <summary>After each hold batch decided: its size, and whether it was granted whole (see <see cref="ReservationEngine.HoldBatchAsync"/>).</summary>
    public event Action<int, bool>? HoldBatchCompleted;

    /// <summary>After each confirm/release batch decided: its size, and whether it was applied whole.</summary>
    public event Action<int, bool>? ChangeBatchCompleted;

    public Task<HoldResult> HoldAsync(HoldRequest request, CancellationToken cancellationToken) =>
        ReservationEngine.IsValidHold(request)
            ? _holds.EnqueueAsync(request, cancellationToken)
            : Task.FromResult(new HoldResult(HoldOutcome.InvalidQuantity));

    public Task<ChangeResult> ConfirmAsync(Guid userId, Guid reservationId, CancellationToken cancellationToken,
        IdempotencyKey<ChangeResult>? idempotency = null) =>
        _changes.EnqueueAsync(new ChangeRequest(reservationId, userId, Transition.Confirm, idempotency), cancellationToken);

    public Task<ChangeResult> ReleaseAsync(Guid userId, Guid reservationId, CancellationToken cancellationToken) =>
        _changes.EnqueueAsync(new ChangeRequest(reservationId, userId, Transition.Release), cancellationToken);
}
