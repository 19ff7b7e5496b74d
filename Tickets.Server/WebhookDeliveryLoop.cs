// The server's webhook delivery: WebhookDelivery's rounds back to back (several at once) while they find messages,
// then one look per poll interval. Several servers on one database may all run it; the claim keeps them from
// sending one attempt twice.
using Tickets.Api;

namespace Tickets.Server;

public sealed partial class WebhookDeliveryLoop(WebhookDelivery delivery, TimeProvider time, ILogger<WebhookDeliveryLoop> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!delivery.Enabled)
        {
            LogOff(logger, AppSettingNames.WebhookSecretKey);
            return;
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // Returns once every round finds nothing due.
                await delivery.DrainAsync(TimeSpan.MaxValue, stoppingToken);
                await Task.Delay(delivery.PollInterval, time, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // The database is down, most likely: claimed messages come back when their lease ends.
                LogRoundFailed(logger, ex);
                try
                {
                    await Task.Delay(delivery.PollInterval * 5, time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook delivery is off: {Setting} is not set")]
    private static partial void LogOff(ILogger logger, string setting);

    [LoggerMessage(Level = LogLevel.Error, Message = "A webhook delivery round failed; retrying shortly")]
    private static partial void LogRoundFailed(ILogger logger, Exception ex);
}
