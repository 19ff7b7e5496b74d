// The delivery loop both hosts run (Tickets.Server: a hosted service; Tickets.Functions: a timer, README): claim due
// outbox messages, send each as a signed POST, record every attempt. At least once: a message is marked delivered
// only after a 2xx, so a crash between sending and recording sends it again with the same webhook-id.
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Tickets.Data;

namespace Tickets.Api;

public sealed partial class WebhookDelivery : IDisposable
{
    private readonly WebhookStore _store;
    private readonly WebhookSecrets _secrets;
    private readonly WebhookOptions _options;
    private readonly ILogger<WebhookDelivery> _logger;
    private readonly HttpClient _client;
    // Ticks (UTC) of the last cleanup and backlog count, shared by the concurrent rounds.
    private long _lastCleanup = DateTime.MinValue.Ticks;
    private long _lastBacklogObserved = DateTime.MinValue.Ticks;

    /// <summary>
    /// How often an instance counts the backlog for the metrics, however many rounds it runs. Counting reads every
    /// pending message: once per round of 200, with a backlog of tens of thousands during an on-sale, it cost the
    /// database more than delivering them; and once per empty round of each of the concurrent loops, with a backlog
    /// waiting for its retries, it took half the database's time from the holds.
    /// </summary>
    internal static readonly TimeSpan BacklogObserveInterval = TimeSpan.FromSeconds(5);

    /// <summary>How many times this instance has counted the backlog.</summary>
    internal int BacklogCounts => Volatile.Read(ref _backlogCounts);

    private int _backlogCounts;

    public WebhookDelivery(WebhookStore store, WebhookSecrets secrets, WebhookTargets targets, IOptions<WebhookOptions> options, ILogger<WebhookDelivery> logger)
    {
        _store = store;
        _secrets = secrets;
        _options = options.Value;
        _logger = logger;
        _client = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            ConnectTimeout = _options.ConnectTimeout,
            ConnectCallback = targets.ConnectAsync,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            MaxConnectionsPerServer = Math.Max(1, _options.MaxConcurrentDeliveries),
        })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _client.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("Tickets-Webhooks", "1.0"));
    }

    /// <summary>
    /// A claim lasts past the slowest round: a batch is sent a few at a time, so its last message may start only after
    /// several attempts before it each took their full timeout. No other loop takes a message before its lease ends.
    /// Rounds running at once share the connections to an endpoint, but an attempt's timeout runs from its start,
    /// waiting for a connection included, so each wave of a round still ends within one timeout.
    /// </summary>
    private TimeSpan Lease =>
        (_options.ConnectTimeout + _options.ResponseTimeout) * Math.Ceiling(Math.Max(1, _options.BatchSize) / (double)Math.Max(1, _options.MaxConcurrentDeliveries))
        + TimeSpan.FromSeconds(30);

    /// <summary>How many rounds an instance runs at once (<see cref="WebhookOptions.ConcurrentRounds"/>, at least 1).</summary>
    public int ConcurrentRounds => Math.Max(1, _options.ConcurrentRounds);

    public bool Enabled => _secrets.Configured;

    public TimeSpan PollInterval => _options.PollInterval;


    /// <summary>One round: claim a batch, send it (several at once), record the outcomes. Returns how many were claimed.</summary>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        if (!_secrets.Configured)
        {
            return 0;
        }
        var claimed = await _store.ClaimAsync(_options.BatchSize, Lease, cancellationToken);
        if (claimed.Count > 0)
        {
            var results = new WebhookAttemptResult[claimed.Count];
            await Parallel.ForEachAsync(Enumerable.Range(0, claimed.Count),
                new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, _options.MaxConcurrentDeliveries), CancellationToken = cancellationToken },
                async (i, ct) => results[i] = await SendAsync(claimed[i], ct));
            // Recorded even when stopping: these attempts happened.
            var summary = await _store.RecordAsync(results, _options.RetryWindow, _options.DisableAfter, CancellationToken.None);
            TicketsMetrics.WebhookDeliveries.Add(summary.Delivered, new KeyValuePair<string, object?>("outcome", "delivered"));
            TicketsMetrics.WebhookDeliveries.Add(summary.Failed, new KeyValuePair<string, object?>("outcome", "failed"));
            TicketsMetrics.WebhookDeliveries.Add(summary.Dead, new KeyValuePair<string, object?>("outcome", "dead"));
            if (summary.Dead > 0)
            {
                LogDeadLettered(_logger, summary.Dead);
            }
            foreach (var id in summary.Disabled)
            {
                LogDisabled(_logger, id, _options.DisableAfter);
            }
        }
        if (Due(ref _lastBacklogObserved, BacklogObserveInterval))
        {
            await ObserveBacklogAsync(cancellationToken);
        }
        return claimed.Count;
    }

    /// <summary>A timer run: <see cref="DrainAsync(TimeSpan, CancellationToken)"/> within the drain budget.</summary>
    public Task<int> DrainAsync(CancellationToken cancellationToken) => DrainAsync(_options.DrainBudget, cancellationToken);

    /// <summary>
    /// <see cref="WebhookOptions.ConcurrentRounds"/> loops of rounds, each until a round finds nothing due, the
    /// budget is spent, or cancellation. Returns how many messages they claimed in all.
    /// </summary>
    public async Task<int> DrainAsync(TimeSpan budget, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var loops = Enumerable.Range(0, ConcurrentRounds).Select(async _ =>
        {
            var total = 0;
            while (!cancellationToken.IsCancellationRequested)
            {
                var claimed = await RunOnceAsync(cancellationToken);
                total += claimed;
                if (claimed == 0 || clock.Elapsed >= budget)
                {
                    break;
                }
            }
            return total;
        });
        return (await Task.WhenAll(loops)).Sum();
    }

    /// <summary>True, and the time taken, for the one caller that finds <paramref name="interval"/> passed since it.</summary>
    private static bool Due(ref long lastTicks, TimeSpan interval)
    {
        var last = Interlocked.Read(ref lastTicks);
        var now = DateTime.UtcNow.Ticks;
        return now - last >= interval.Ticks && Interlocked.CompareExchange(ref lastTicks, now, last) == last;
    }

    private async Task ObserveBacklogAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _backlogCounts);
        var backlog = await _store.BacklogAsync(cancellationToken);
        TicketsMetrics.ObserveWebhookBacklog(backlog.Pending, backlog.OldestPendingAge);
        if (Due(ref _lastCleanup, TimeSpan.FromMinutes(1)))
        {
            var deleted = await _store.DeleteOldMessagesAsync(_options.Retention, 10_000, cancellationToken);
            if (deleted > 0)
            {
                LogDeletedOld(_logger, deleted, _options.Retention);
            }
        }
    }

    private async Task<WebhookAttemptResult> SendAsync(ClaimedWebhookMessage message, CancellationToken cancellationToken)
    {
        var started = DateTime.UtcNow;
        var clock = Stopwatch.StartNew();
        int? status = null;
        string? responseBody = null;
        string? error;
        var delivered = false;
        try
        {
            var body = WebhookPayload.Body(message);
            using var request = new HttpRequestMessage(HttpMethod.Post, message.Url) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            request.Headers.Add(WebhookSignature.IdHeader, message.Id.ToString());
            request.Headers.Add(WebhookSignature.TimestampHeader, timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
            request.Headers.Add(WebhookSignature.SignatureHeader, Sign(message, timestamp, body));

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.ConnectTimeout + _options.ResponseTimeout);
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            status = (int)response.StatusCode;
            responseBody = await ReadCappedAsync(response, timeout.Token);
            delivered = response.IsSuccessStatusCode;
            error = delivered ? null : $"The endpoint answered {status}.";
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            error = $"No complete answer within {(_options.ConnectTimeout + _options.ResponseTimeout).TotalSeconds:0.#} s.";
        }
        catch (HttpRequestException ex) when (Find<WebhookTargetRefusedException>(ex) is { } refused)
        {
            error = refused.Message;
        }
        catch (HttpRequestException ex)
        {
            error = $"Request failed: {ex.HttpRequestError}: {Innermost(ex).Message}";
        }
        catch (Exception ex) when (ex is CryptographicException or FormatException)
        {
            // A secret that does not open (a different Webhooks:SecretKey than the one it was sealed with).
            error = "The signing secret could not be opened with the configured key.";
            LogSecretUnusable(_logger, ex, message.SubscriptionId);
        }
        return new WebhookAttemptResult(message.Id, message.Attempts,
            delivered ? WebhookAttemptOutcome.Delivered : WebhookAttemptOutcome.Failed, started, (int)clock.ElapsedMilliseconds,
            status, error, responseBody, delivered ? TimeSpan.Zero : RetryDelay(message.Attempts));
    }

    private string Sign(ClaimedWebhookMessage message, long timestamp, byte[] body)
    {
        var secrets = new List<string> { _secrets.Open(message.SubscriptionId, message.Secret) };
        if (message.PreviousSecret is { } previous)
        {
            secrets.Add(_secrets.Open(message.SubscriptionId, previous));
        }
        return WebhookSignature.Header(secrets, message.Id.ToString(), timestamp, body);
    }

    /// <summary>Exponential from the base delay, capped, with full jitter over the upper half: retries of many messages spread out.</summary>
    internal TimeSpan RetryDelay(int attempt)
    {
        var exponent = Math.Min(attempt - 1, 30);
        var ceiling = Math.Min(_options.RetryBaseDelay.TotalMilliseconds * Math.Pow(2, exponent), _options.MaxRetryDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(ceiling / 2 + Random.Shared.NextDouble() * ceiling / 2);
    }

    private static async Task<string?> ReadCappedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[WebhookOptions.MaxResponseBodyBytes];
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(read), cancellationToken);
            if (n == 0)
            {
                break;
            }
            read += n;
        }
        // Only this much is read; disposing the response drops the rest (and the connection, if more was coming).
        return read == 0 ? null : Encoding.UTF8.GetString(buffer, 0, read).Replace('\0', '\uFFFD');
    }

    private static T? Find<T>(Exception ex) where T : Exception
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is T found)
            {
                return found;
            }
        }
        return null;
    }

    private static Exception Innermost(Exception ex) => ex.InnerException is null ? ex : Innermost(ex.InnerException);

    public void Dispose() => _client.Dispose();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dead-lettered {Count} webhook messages after their retry window")]
    private static partial void LogDeadLettered(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Disabled webhook subscription {SubscriptionId}: every delivery failed for {DisableAfter}")]
    private static partial void LogDisabled(ILogger logger, Guid subscriptionId, TimeSpan disableAfter);

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted {Count} delivered or dead webhook messages older than {Retention}")]
    private static partial void LogDeletedOld(ILogger logger, int count, TimeSpan retention);

    [LoggerMessage(Level = LogLevel.Error, Message = "The signing secret of webhook subscription {SubscriptionId} does not open with Webhooks:SecretKey")]
    private static partial void LogSecretUnusable(ILogger logger, Exception ex, Guid subscriptionId);
}

/// <summary>The Standard Webhooks signature scheme (https://www.standardwebhooks.com): HMAC-SHA256 of "{id}.{timestamp}.{body}".</summary>
public static class WebhookSignature
{
    public const string IdHeader = "webhook-id";
    public const string TimestampHeader = "webhook-timestamp";
    public const string SignatureHeader = "webhook-signature";

    /// <summary>"v1,&lt;base64&gt;" per secret, space-separated: during a rotation both the new and the previous secret sign.</summary>
    public static string Header(IEnumerable<string> secrets, string id, long timestamp, byte[] body)
    {
        var prefix = Encoding.UTF8.GetBytes(FormattableString.Invariant($"{id}.{timestamp}."));
        var content = new byte[prefix.Length + body.Length];
        prefix.CopyTo(content, 0);
        body.CopyTo(content, prefix.Length);
        return string.Join(' ', secrets.Select(s => "v1," + Convert.ToBase64String(HMACSHA256.HashData(WebhookSecrets.KeyOf(s), content))));
    }
}

/// <summary>
/// The JSON body: <c>{type, timestamp, data}</c>, where data is the reservation or event as the API shows it, made
/// from the row the trigger stored as it committed (to_jsonb, snake_case) by the same response types the API uses.
/// </summary>
public static class WebhookPayload
{
    private static readonly JsonSerializerOptions RowOptions = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new ApiJson.UtcDateTimeConverter() },
    };

    public static byte[] Body(ClaimedWebhookMessage message)
    {
        object data;
        if (message.Type.StartsWith("reservation.", StringComparison.Ordinal))
        {
            // The stored row lacks the lines and the currency; the claim read them (WebhookStore.ReservationDetailsSql).
            var reservation = JsonSerializer.Deserialize<Reservation>(message.Payload, RowOptions)!;
            data = ReservationResponse.From(message.Currency is { } currency
                ? reservation with { Currency = currency, Lines = new ValueList<ReservationLine>(message.Lines) }
                : reservation);
        }
        else
        {
            data = EventResponse.From(JsonSerializer.Deserialize<Event>(message.Payload, RowOptions)!);
        }
        return JsonSerializer.SerializeToUtf8Bytes(new WebhookBody(message.Type, DateTime.SpecifyKind(message.CreatedAt, DateTimeKind.Utc), data), ApiJson.Options);
    }

    private sealed record WebhookBody(string Type, DateTime Timestamp, object Data);
}
