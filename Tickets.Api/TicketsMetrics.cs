// Counters and histograms on System.Diagnostics.Metrics (the OpenTelemetry-compatible API): any OTel exporter,
// dotnet-counters, or Application Insights' OpenTelemetry distro can collect them by the meter name.
using System.Diagnostics.Metrics;
using Tickets.Data;

namespace Tickets.Api;

public static class TicketsMetrics
{
    public const string MeterName = "Tickets";

    private static readonly Meter Meter = new(MeterName, "1.0");

    public static readonly Counter<long> HoldsGranted = Meter.CreateCounter<long>("tickets.holds.granted", "{hold}", "Holds granted");
    public static readonly Counter<long> HoldsRefused = Meter.CreateCounter<long>("tickets.holds.refused", "{hold}", "Holds refused, by reason");
    public static readonly Counter<long> Confirms = Meter.CreateCounter<long>("tickets.confirms", "{reservation}", "Holds confirmed");
    public static readonly Counter<long> HoldsExpired = Meter.CreateCounter<long>("tickets.holds.expired", "{hold}", "Holds ended by the sweeper");
    public static readonly Histogram<int> BatchSize = Meter.CreateHistogram<int>("tickets.batch.size", "{request}", "Requests per batched transaction");
    public static readonly Counter<long> Unavailable = Meter.CreateCounter<long>("tickets.responses.unavailable", "{response}", "503 answers, by code");
    public static readonly Counter<long> RateLimited = Meter.CreateCounter<long>("tickets.responses.rate_limited", "{response}", "429 answers, by policy");
    public static readonly Counter<long> WebhookDeliveries = Meter.CreateCounter<long>("tickets.webhooks.deliveries", "{attempt}", "Webhook delivery attempts, by outcome (delivered, failed, dead)");

    // The backlog as the delivery loop last read it (every round): observable gauges cannot query the database.
    private static long _webhooksPending;
    private static double _webhooksOldestPendingSeconds;

    public static readonly ObservableGauge<long> WebhooksPending = Meter.CreateObservableGauge("tickets.webhooks.pending",
        () => Interlocked.Read(ref _webhooksPending), "{message}", "Webhook messages waiting for delivery to enabled subscriptions");

    public static readonly ObservableGauge<double> WebhooksOldestPendingAge = Meter.CreateObservableGauge("tickets.webhooks.oldest_pending_age",
        () => Volatile.Read(ref _webhooksOldestPendingSeconds), "s", "Age of the oldest webhook message waiting for delivery");

    public static void ObserveWebhookBacklog(long pending, TimeSpan oldestAge)
    {
        Interlocked.Exchange(ref _webhooksPending, pending);
        Volatile.Write(ref _webhooksOldestPendingSeconds, oldestAge.TotalSeconds);
    }

    public static void Record(HoldResult result)
    {
        if (result.Outcome == HoldOutcome.Held)
        {
            HoldsGranted.Add(1);
        }
        else if (result.Outcome != HoldOutcome.Replayed)
        {
            HoldsRefused.Add(1, new KeyValuePair<string, object?>("reason", result.Outcome.ToString()));
        }
    }

    public static void Record(ChangeResult result, Transition transition)
    {
        if (result.Outcome == ChangeOutcome.Changed && transition == Transition.Confirm)
        {
            Confirms.Add(1);
        }
    }
}
