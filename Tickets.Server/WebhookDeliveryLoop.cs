// The server's webhook delivery: WebhookDelivery.ConcurrentRounds loops, each running rounds back to back while they
// find messages and waiting one poll interval after a round that found nothing. Several servers on one database may
// all run it; the claim keeps them from sending one attempt twice.
using Tickets.Api;

namespace Tickets.Server;

public sealed partial class WebhookDeliveryLoop(WebhookDelivery delivery, TimeProvider time, ILogger<WebhookDeliveryLoop> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!delivery.Enabled)
        {
            LogOff(logger, AppSettingNames.WebhookSecretKey);
            return Task.CompletedTask;
        }
        // Independent loops, so that one waiting for a slow endpoint, or idle, never holds the others back.
        return Task.WhenAll(Enumerable.Range(0, delivery.ConcurrentRounds).Select(_ => Task.Run(() => LoopAsync(stoppingToken), CancellationToken.None)));
    }

    private async Task LoopAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (await delivery.RunOnceAsync(stoppingToken) > 0)
                {
                    continue;
                }
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
