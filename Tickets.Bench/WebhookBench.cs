// The webhook side of the benchmark: a receiver on loopback, the outbox triggers switched off for a baseline
// (the schema as it was before webhooks), subscriptions switched on for one phase at a time, and the backlog
// sampled while confirms run.
using System.Diagnostics;
using Dapper;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Tickets.Bench;

/// <summary>Answers every webhook with 204 at once and counts them: the cost of a receiver is not what is measured.</summary>
internal sealed class WebhookSink : IAsyncDisposable
{
    private readonly WebApplication _app;
    private long _received;

    private WebhookSink(WebApplication app) => _app = app;

    public Uri Url { get; private set; } = null!;

    public long Received => Interlocked.Read(ref _received);

    public static async Task<WebhookSink> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var sink = new WebhookSink(app);
        app.Run(async context =>
        {
            await context.Request.Body.CopyToAsync(Stream.Null);
            Interlocked.Increment(ref sink._received);
            context.Response.StatusCode = StatusCodes.Status204NoContent;
        });
        await app.StartAsync();
        sink.Url = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/hooks");
        return sink;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

internal sealed record WebhookBacklogFigures(int Round, double Seconds, long Confirms, long PendingAtStart, long PendingMax, long PendingAtEnd,
    double GrowthPerSecond, long Delivered);

internal sealed class WebhookBench(NpgsqlDataSource dataSource, BenchClient client, WebhookSink sink, Guid heldSubscription, Guid confirmedSubscription)
{
    public static async Task<WebhookBench> CreateAsync(NpgsqlDataSource dataSource, BenchClient client)
    {
        var sink = await WebhookSink.StartAsync();
        var held = await client.CreateWebhookAsync(sink.Url, ["reservation.held"]);
        var confirmed = await client.CreateWebhookAsync(sink.Url, ["reservation.confirmed"]);
        var bench = new WebhookBench(dataSource, client, sink, held, confirmed);
        await client.SetWebhookEnabledAsync(held, false);
        await client.SetWebhookEnabledAsync(confirmed, false);
        return bench;
    }

    public WebhookSink Sink => sink;

    /// <summary>The phase on the schema as it was before webhooks: the outbox triggers disabled for its length.</summary>
    public async Task WithoutTriggersAsync(Func<Task> phase)
    {
        await SetOutboxTriggersAsync(dataSource, enabled: false);
        try
        {
            await phase();
        }
        finally
        {
            await SetOutboxTriggersAsync(dataSource, enabled: true);
        }
    }

    /// <summary>The phase with an enabled subscriber to reservation.held.</summary>
    public async Task WithHeldSubscriberAsync(Func<Task> phase)
    {
        await client.SetWebhookEnabledAsync(heldSubscription, true);
        try
        {
            await phase();
        }
        finally
        {
            await client.SetWebhookEnabledAsync(heldSubscription, false);
        }
    }

    /// <summary>
    /// Load with an enabled subscriber to reservation.held, then until its messages are all delivered (at most a
    /// minute), so that no backlog of the warm-up reaches a measured phase.
    /// </summary>
    public async Task WarmUpDeliveryAsync(Func<Task> load)
    {
        await WithHeldSubscriberAsync(async () =>
        {
            await load();
            var clock = Stopwatch.StartNew();
            long pending;
            while ((pending = await CountAsync("select count(*) from webhook_messages where status = 'pending' and subscription_id = @Id",
                       new { Id = heldSubscription })) > 0 && clock.Elapsed < TimeSpan.FromMinutes(1))
            {
                await Task.Delay(200);
            }
            Console.WriteLine($"delivery warm-up: the subscriber's backlog {(pending == 0 ? "delivered" : $"still {pending:N0} after a minute")} {clock.Elapsed.TotalSeconds:N1} s after the load");
        });
    }

    /// <summary>
    /// The phase with an enabled subscriber to reservation.held whose messages are written but not yet due (the
    /// column's default pushed a day ahead for the phase's length): what the outbox writes cost the holds, with
    /// delivery happening elsewhere, as it does in Azure when the delivery timer runs on another instance.
    /// </summary>
    public async Task WithHeldSubscriberDeferredAsync(Func<Task> phase)
    {
        await ExecuteAsync("alter table webhook_messages alter column next_attempt_at set default clock_timestamp() + interval '1 day'");
        try
        {
            await WithHeldSubscriberAsync(phase);
        }
        finally
        {
            await ExecuteAsync("alter table webhook_messages alter column next_attempt_at set default clock_timestamp()");
        }
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        await connection.ExecuteAsync(sql);
    }

    /// <summary>
    /// The confirm phase with a subscriber to reservation.confirmed, its backlog sampled every 200 ms: delivery
    /// keeps up when the backlog does not grow while confirms arrive.
    /// </summary>
    public async Task<WebhookBacklogFigures> WithConfirmedSubscriberAsync(int round, TimeSpan duration, Func<Func<Task>, Task> phase)
    {
        await client.SetWebhookEnabledAsync(confirmedSubscription, true);
        var samples = new List<(double Seconds, long Pending)>();
        long confirmsBefore = 0, confirmsAfter = 0, deliveredBefore = 0, deliveredAfter = 0;
        var clock = new Stopwatch();
        try
        {
            await phase(async () =>
            {
                confirmsBefore = await CountAsync("select count(*) from reservations where status = 'CONFIRMED'");
                deliveredBefore = sink.Received;
                clock.Start();
                while (clock.Elapsed < duration)
                {
                    samples.Add((clock.Elapsed.TotalSeconds, await PendingAsync()));
                    await Task.Delay(200);
                }
                confirmsAfter = await CountAsync("select count(*) from reservations where status = 'CONFIRMED'");
                deliveredAfter = sink.Received;
            });
        }
        finally
        {
            await client.SetWebhookEnabledAsync(confirmedSubscription, false);
        }
        return new WebhookBacklogFigures(round, clock.Elapsed.TotalSeconds, confirmsAfter - confirmsBefore, samples.FirstOrDefault().Pending,
            samples.Count == 0 ? 0 : samples.Max(s => s.Pending), samples.LastOrDefault().Pending, Slope(samples), deliveredAfter - deliveredBefore);
    }

    private Task<long> PendingAsync() =>
        CountAsync("select count(*) from webhook_messages where status = 'pending' and subscription_id = @Id", new { Id = confirmedSubscription });

    private async Task<long> CountAsync(string sql, object? args = null)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<long>(sql, args);
    }

    /// <summary>The outbox triggers on or off (as before webhooks): for the benchmark only, never in the app.</summary>
    public static async Task SetOutboxTriggersAsync(NpgsqlDataSource dataSource, bool enabled)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        await connection.ExecuteAsync(!enabled
            ? """
              alter table reservations disable trigger webhook_reservations_inserted, disable trigger webhook_reservations_updated;
              alter table events disable trigger webhook_events_updated;
              """
            : """
              alter table reservations enable trigger webhook_reservations_inserted, enable trigger webhook_reservations_updated;
              alter table events enable trigger webhook_events_updated;
              """);
    }

    /// <summary>Least-squares slope of the backlog over time, messages per second.</summary>
    private static double Slope(List<(double Seconds, long Pending)> samples)
    {
        if (samples.Count < 2)
        {
            return double.NaN;
        }
        var meanX = samples.Average(s => s.Seconds);
        var meanY = samples.Average(s => (double)s.Pending);
        var num = samples.Sum(s => (s.Seconds - meanX) * (s.Pending - meanY));
        var den = samples.Sum(s => (s.Seconds - meanX) * (s.Seconds - meanX));
        return den == 0 ? double.NaN : num / den;
    }
}
