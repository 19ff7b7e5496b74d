// The minute job both hosts run on ApiRoutes.ReleaseExpiredHoldsSchedule: expired holds, then old idempotency keys.
using Microsoft.Extensions.Logging;
using Tickets.Data;

namespace Tickets.Api;

public sealed class ExpiredHoldsJob(ReservationEngine engine, ILogger<ExpiredHoldsJob> logger)
{
    public async Task<SweepResult> RunAsync(CancellationToken cancellationToken)
    {
        var result = await engine.ReleaseExpiredHoldsAsync(cancellationToken);
        if (result.Holds > 0)
        {
            logger.LogInformation("Released {Holds} expired holds, {Seats} seats back on sale", result.Holds, result.Seats);
        }
        TicketsMetrics.HoldsExpired.Add(result.Holds);
        var keys = await engine.DeleteOldIdempotencyKeysAsync(IdempotencyHeader.Retention, cancellationToken);
        if (keys > 0)
        {
            logger.LogInformation("Deleted {Keys} idempotency keys older than {Retention}", keys, IdempotencyHeader.Retention);
        }
        return result;
    }
}
