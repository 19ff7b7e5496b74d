using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Tickets.Tests;

public sealed record ReceivedWebhook(string Id, string Timestamp, string Signature, string Body, string Path, DateTime ArrivedAt, int Answered);

/// <summary>
/// A real HTTP endpoint on loopback (Kestrel, random port) that records every webhook it receives and answers as the
/// test says: a status code, or a hang until the test's token ends.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly CancellationTokenSource _stopping = new();
    private int _count;

    private WebhookReceiver(WebApplication app) => _app = app;

    /// <summary>Every request, in arrival order, with what it was answered (0: not answered, it hung).</summary>
    public ConcurrentQueue<ReceivedWebhook> Received { get; } = new();

    /// <summary>The status to answer the n-th request (from 1) with; a negative value hangs until disposal.</summary>
    public Func<int, ReceivedWebhook, int> Answer { get; set; } = (_, _) => 200;

    public Uri Url { get; private set; } = null!;

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.Run(receiver.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver.Url = new Uri(address + "/hooks/");
        return receiver;
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync();
        var n = Interlocked.Increment(ref _count);
        var request = new ReceivedWebhook(context.Request.Headers["webhook-id"].ToString(), context.Request.Headers["webhook-timestamp"].ToString(),
            context.Request.Headers["webhook-signature"].ToString(), body, context.Request.Path, DateTime.UtcNow, 0);
        var status = Answer(n, request);
        if (status < 0)
        {
            Received.Enqueue(request);
            try
            {
                await Task.Delay(Timeout.Infinite, CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token, context.RequestAborted).Token);
            }
            catch (OperationCanceledException)
            {
            }
            return;
        }
        Received.Enqueue(request with { Answered = status });
        context.Response.StatusCode = status;
        if (status is >= 300 and < 400)
        {
            context.Response.Headers.Location = "/elsewhere";
        }
        await context.Response.WriteAsync(status == 200 ? "ok" : new string('x', 10_000));
    }

    public IReadOnlyList<ReceivedWebhook> Delivered => Received.Where(r => r.Answered is >= 200 and < 300).ToList();

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _stopping.Dispose();
    }

    /// <summary>
    /// Standard Webhooks verification written from the specification, independently of the app's signer: some
    /// "v1,&lt;base64&gt;" entry must equal HMAC-SHA256(base64-decoded secret after "whsec_", "{id}.{timestamp}.{body}").
    /// </summary>
    public static bool Verify(string secret, ReceivedWebhook webhook)
    {
        Assert.StartsWith("whsec_", secret);
        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        using var hmac = new HMACSHA256(key);
        var expected = hmac.ComputeHash(Encoding.UTF8.GetBytes(webhook.Id + "." + webhook.Timestamp + "." + webhook.Body));
        return webhook.Signature.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Where(s => s.StartsWith("v1,", StringComparison.Ordinal))
            .Any(s => CryptographicOperations.FixedTimeEquals(Convert.FromBase64String(s[3..]), expected));
    }
}
