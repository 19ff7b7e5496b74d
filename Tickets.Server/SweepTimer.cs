// Runs ExpiredHoldsJob on the same NCRONTAB schedule as the Functions timer trigger.
using NCrontab;
using Tickets.Api;

namespace Tickets.Server;

public sealed class SweepTimerOptions
{
    /// <summary>Overrides the schedule locally (tests use a faster one); the Functions app always uses the constant.</summary>
    public string SweepSchedule { get; set; } = ApiRoutes.ReleaseExpiredHoldsSchedule;
}

public sealed partial class SweepTimer(ExpiredHoldsJob job, Microsoft.Extensions.Options.IOptions<SweepTimerOptions> options,
    TimeProvider time, ILogger<SweepTimer> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var schedule = CrontabSchedule.Parse(options.Value.SweepSchedule, new CrontabSchedule.ParseOptions { IncludingSeconds = true });
        while (!stoppingToken.IsCancellationRequested)
        {
            var now = time.GetUtcNow().UtcDateTime;
            var next = schedule.GetNextOccurrence(now);
            try
            {
                await Task.Delay(next - now, time, stoppingToken);
                await job.RunAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // A failed run (database down) is retried at the next tick, as the Functions timer would.
                LogRunFailed(logger, ex);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Releasing expired holds failed; retrying at the next tick")]
    private static partial void LogRunFailed(ILogger logger, Exception ex);
}
