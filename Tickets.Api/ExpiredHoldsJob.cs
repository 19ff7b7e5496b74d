// The minute job both hosts run on ApiRoutes.ReleaseExpiredHoldsSchedule.
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
        return result;
    }
}
