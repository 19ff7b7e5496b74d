// A stand-in for the Azure Functions host, for tests only: it starts the built Tickets.Functions worker as the
// real host does, speaks the host <-> worker gRPC protocol with it, and serves HTTP by forwarding each request
// to the worker's ASP.NET Core integration the way the host proxies it. What it does not prove is listed in the
// README ("What was verified where").
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Template;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tickets.Tests.StandInHost.Rpc;

namespace Tickets.Tests.StandInHost;

public sealed class StandInFunctionsHost : IAsyncDisposable
{
    /// <summary>
    /// Marks worker processes started by a stand-in host, with the test run's tag (TICKETS_TEST_RUN, set by
    /// scripts/test.sh), so the script ends only its own run's workers if any were left behind.
    /// </summary>
    public static readonly string WorkerIdPrefix = $"tickets-test-worker-{Environment.GetEnvironmentVariable("TICKETS_TEST_RUN") ?? "adhoc"}-";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    // Up to about a second of retries, in short steps: a cold worker's web server may open its port just after
    // the worker reports its functions loaded, and a start-up measurement should not wait longer than that.
    private const int ForwardAttempts = 100;
    private static readonly TimeSpan ForwardRetryDelay = TimeSpan.FromMilliseconds(10);
    private static readonly string[] HopByHopHeaders =
        ["Connection", "Keep-Alive", "Transfer-Encoding", "Upgrade", "Proxy-Connection", "TE", "Trailer", "Host"];

    private readonly WorkerChannel _channel;
    private readonly WebApplication _web;
    private readonly WorkerProcess _worker;
    private readonly HttpClient _forwarder;
    private IReadOnlyList<HttpFunction> _routes = [];

    private StandInFunctionsHost(WebApplication web, WorkerChannel channel, WorkerProcess worker)
    {
        _web = web;
        _channel = channel;
        _worker = worker;
        // The host's proxy: no cookies, no redirects, no decompression; the worker's answer goes back as it is.
        _forwarder = new HttpClient(new SocketsHttpHandler
        {
            UseCookies = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseProxy = false,
        })
        { Timeout = Timeout.InfiniteTimeSpan };
    }

    public HostLog Log => _channel.Log;

    /// <summary>The front end's address with the host.json route prefix, e.g. http://127.0.0.1:1234/api/.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>What the worker advertised in its init response (HttpUri among them).</summary>
    public IReadOnlyDictionary<string, string> WorkerCapabilities { get; private set; } = new Dictionary<string, string>();

    /// <summary>The metadata the worker returned for its own functions (worker indexing).</summary>
    public IReadOnlyList<RpcFunctionMetadata> Functions { get; private set; } = [];

    /// <summary>Time from starting the worker process to every function loaded.</summary>
    public TimeSpan StartupTime { get; private set; }

    /// <summary>When the worker process was started, as a <see cref="Stopwatch"/> timestamp.</summary>
    public long WorkerStartedAt { get; private set; }

    public int WorkerProcessId => _worker.Id;

    /// <summary>Ends the thread that started the worker, as the death of the test process would.</summary>
    internal void ReleaseWorkerOwner() => _worker.ReleaseOwnerThread();

    /// <summary>Starts the worker from <paramref name="appDirectory"/> (a build or publish output) with these app settings.</summary>
    public static async Task<StandInFunctionsHost> StartAsync(string appDirectory, IReadOnlyDictionary<string, string> appSettings, string routePrefix,
        HostLog log)
    {
        var channel = new WorkerChannel(log);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddGrpc(o =>
        {
            o.MaxReceiveMessageSize = null;
            o.MaxSendMessageSize = null;
        });
        builder.Services.AddSingleton(channel);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = null;
            k.Listen(IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http2);
            k.Listen(IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http1);
        });
        var web = builder.Build();
        var ports = new int[2];
        StandInFunctionsHost? host = null;
        web.Use(async (context, next) =>
        {
            if (context.Connection.LocalPort == ports[1] && host is not null)
            {
                try
                {
                    await host.ServeAsync(context, routePrefix);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    log.Add("host", $"The stand-in host failed on {context.Request.Method} {context.Request.Path}: {ex}");
                    throw;
                }
                return;
            }
            await next(context);
        });
        web.MapGrpcService<EventStreamService>();
        await web.StartAsync();
        var addresses = web.Urls.Select(u => new Uri(u)).ToList();
        ports[0] = addresses[0].Port;
        ports[1] = addresses[1].Port;

        var workerId = WorkerIdPrefix + Guid.NewGuid().ToString("N");
        var startedAt = Stopwatch.GetTimestamp();
        WorkerProcess worker;
        try
        {
            worker = WorkerProcess.Start(appDirectory, new Uri($"http://127.0.0.1:{ports[0]}/"), workerId, appSettings, channel.Log);
        }
        catch
        {
            await web.StopAsync();
            await web.DisposeAsync();
            throw;
        }
        host = new StandInFunctionsHost(web, channel, worker) { WorkerStartedAt = startedAt };
        try
        {
            await host.HandshakeAsync(appDirectory);
            host.StartupTime = Stopwatch.GetElapsedTime(startedAt);
            host.BaseAddress = new Uri($"http://127.0.0.1:{ports[1]}/{routePrefix}/");
            return host;
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
    }

    private async Task HandshakeAsync(string appDirectory)
    {
        using var timeout = new CancellationTokenSource(StartTimeout);
        var exited = _worker.Exited;
        await Until(_channel.Connected.Task, "the worker's start_stream");
        _channel.Log.Add("host", $"start_stream after {Stopwatch.GetElapsedTime(WorkerStartedAt).TotalMilliseconds:N0} ms");

        var init = await Until(_channel.RequestAsync(new StreamingMessage
        {
            WorkerInitRequest = new WorkerInitRequest
            {
                HostVersion = "4.0.0-stand-in",
                WorkerDirectory = appDirectory,
                FunctionAppDirectory = appDirectory,
            },
        }, StreamingMessage.ContentOneofCase.WorkerInitResponse, "", StartTimeout), "worker_init_response");
        EnsureSuccess(init.WorkerInitResponse.Result, "worker init");
        WorkerCapabilities = init.WorkerInitResponse.Capabilities.ToDictionary(c => c.Key, c => c.Value);
        _channel.Log.Add("host", $"worker_init_response after {Stopwatch.GetElapsedTime(WorkerStartedAt).TotalMilliseconds:N0} ms");

        var metadata = await Until(_channel.RequestAsync(new StreamingMessage
        {
            FunctionsMetadataRequest = new FunctionsMetadataRequest { FunctionAppDirectory = appDirectory },
        }, StreamingMessage.ContentOneofCase.FunctionMetadataResponse, "", StartTimeout), "function_metadata_response");
        EnsureSuccess(metadata.FunctionMetadataResponse.Result, "function metadata");
        Functions = metadata.FunctionMetadataResponse.FunctionMetadataResults.ToList();
        _channel.Log.Add("host", $"function_metadata_response after {Stopwatch.GetElapsedTime(WorkerStartedAt).TotalMilliseconds:N0} ms");

        var loads = Functions.Select(f => _channel.RequestAsync(new StreamingMessage
        {
            FunctionLoadRequest = new FunctionLoadRequest { FunctionId = f.FunctionId, Metadata = f },
        }, StreamingMessage.ContentOneofCase.FunctionLoadResponse, f.FunctionId, StartTimeout)).ToList();
        foreach (var load in await Until(Task.WhenAll(loads), "function_load_response"))
        {
            EnsureSuccess(load.FunctionLoadResponse.Result, $"loading {load.FunctionLoadResponse.FunctionId}");
        }
        _channel.Log.Add("host", $"{Functions.Count} functions loaded after {Stopwatch.GetElapsedTime(WorkerStartedAt).TotalMilliseconds:N0} ms");
        _routes = Functions.Select(HttpFunction.From).OfType<HttpFunction>()
            .OrderBy(f => RoutePrecedence.ComputeInbound(f.Template)).ToList();

        async Task<T> Until<T>(Task<T> task, string what)
        {
            var done = await Task.WhenAny(task, exited, Task.Delay(Timeout.Infinite, timeout.Token).ContinueWith(_ => 0, TaskScheduler.Default));
            if (done != task)
            {
                throw new InvalidOperationException(
                    $"The worker did not send {what} ({(exited.IsCompleted ? $"it exited with code {exited.Result}" : "timed out")}).\n{_channel.Log}");
            }
            return await task;
        }
    }

    private void EnsureSuccess(StatusResult result, string what)
    {
        if (result.Status != StatusResult.Types.Status.Success)
        {
            throw new InvalidOperationException($"The worker failed {what}: {result.Exception?.Message}\n{_channel.Log}");
        }
    }

    /// <summary>Invokes a timer function with the host's TimerInfo JSON and returns the worker's result.</summary>
    public async Task<StatusResult> InvokeTimerAsync(string functionName, bool isPastDue = false, TimeSpan? timeout = null)
    {
        var function = Functions.Single(f => f.Name == functionName);
        var binding = function.Bindings.Single(b => b.Value.Type == "timerTrigger").Key;
        var now = DateTimeOffset.UtcNow;
        var timerInfo = JsonSerializer.Serialize(new
        {
            Schedule = new { AdjustForDST = true },
            ScheduleStatus = new { Last = now.AddMinutes(-1), Next = now.AddMinutes(1), LastUpdated = now.AddMinutes(-1) },
            IsPastDue = isPastDue,
        });
        var invocationId = Guid.NewGuid().ToString();
        var request = NewInvocation(invocationId, function.FunctionId);
        request.InputData.Add(new ParameterBinding { Name = binding, Data = new TypedData { Json = timerInfo } });
        var response = await _channel.RequestAsync(new StreamingMessage { InvocationRequest = request },
            StreamingMessage.ContentOneofCase.InvocationResponse, invocationId, timeout ?? TimeSpan.FromSeconds(60));
        return response.InvocationResponse.Result;
    }

    private static InvocationRequest NewInvocation(string invocationId, string functionId)
    {
        var trace = ActivityTraceId.CreateRandom();
        var span = ActivitySpanId.CreateRandom();
        return new InvocationRequest
        {
            InvocationId = invocationId,
            FunctionId = functionId,
            // The .NET worker dereferences the trace context: without it invocations fail.
            TraceContext = new RpcTraceContext { TraceParent = $"00-{trace}-{span}-00", TraceState = "" },
        };
    }

    /// <summary>
    /// The host's HTTP side with ASP.NET Core integration: match the route by the functions' metadata, then
    /// forward the request to the worker's HttpUri and send the invocation (whose trigger input is an empty
    /// RpcHttp, with route values, query and headers in trigger metadata) at the same time.
    /// </summary>
    private async Task ServeAsync(HttpContext context, string routePrefix)
    {
        var path = context.Request.Path.Value ?? "";
        var prefix = "/" + routePrefix + "/";
        var values = new RouteValueDictionary();
        var function = path.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)
            ? _routes.FirstOrDefault(r => r.Methods.Contains(context.Request.Method, StringComparer.OrdinalIgnoreCase)
                && r.Matches(path[(prefix.Length - 1)..], values = new RouteValueDictionary()))
            : null;
        if (function is null)
        {
            // The host's own answer for a route or method no function declares: a bare 404.
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        var invocationId = Guid.NewGuid().ToString();
        var request = NewInvocation(invocationId, function.FunctionId);
        request.InputData.Add(new ParameterBinding { Name = function.BindingName, Data = new TypedData { Http = new RpcHttp() } });
        foreach (var (key, value) in values)
        {
            request.TriggerMetadata[key] = new TypedData { String = value?.ToString() ?? "" };
        }
        foreach (var (key, value) in context.Request.Query)
        {
            request.TriggerMetadata.TryAdd(key, new TypedData { String = value.ToString() });
        }
        request.TriggerMetadata["Query"] = new TypedData
        {
            Json = JsonSerializer.Serialize(context.Request.Query.ToDictionary(q => q.Key, q => q.Value.ToString())),
        };
        request.TriggerMetadata["Headers"] = new TypedData
        {
            Json = JsonSerializer.Serialize(context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString())),
        };
        // The worker pairs the forwarded request with this invocation; its function side waits about 15 s for it.
        var invocation = _channel.RequestAsync(new StreamingMessage { InvocationRequest = request },
            StreamingMessage.ContentOneofCase.InvocationResponse, invocationId, TimeSpan.FromSeconds(30));

        // The request target as the client sent it (still percent-encoded), as a proxy passes it on.
        var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? path + context.Request.QueryString;
        // Buffered, so that a forward the worker's web server refused can be sent again.
        byte[]? body = null;
        if (context.Request.ContentLength is not null || context.Request.Headers.TransferEncoding.Count > 0 || context.Request.ContentType is not null)
        {
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
            body = buffer.ToArray();
        }
        HttpResponseMessage? response = null;
        // As the host's proxy does, a forward that fails to connect (the worker's web server may start listening
        // just after the worker reports its functions loaded) is retried a few times.
        for (var attempt = 1; response is null; attempt++)
        {
            using var forward = Forward(context, target, body, invocationId);
            try
            {
                response = await _forwarder.SendAsync(forward, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
            }
            catch (HttpRequestException ex) when (ex.HttpRequestError == HttpRequestError.ConnectionError && attempt < ForwardAttempts)
            {
                if (attempt == 1)
                {
                    _channel.Log.Add("host", $"Forwarding {context.Request.Method} {path} failed, retrying: {ex.Message}");
                }
                await Task.Delay(ForwardRetryDelay, context.RequestAborted);
            }
            catch (HttpRequestException ex)
            {
                // The request did not reach the worker, or its answer did not come back (a header the proxy cannot
                // send, a connection reset): never sent again, as it may have run. The function side gives up on
                // its own; the client gets a bad gateway.
                _channel.Log.Add("host", $"Forwarding {context.Request.Method} {path} failed, answering 502: {ex.Message}");
                context.Response.StatusCode = StatusCodes.Status502BadGateway;
                return;
            }
        }
        using (response)
        {
            context.Response.StatusCode = (int)response.StatusCode;
            foreach (var (name, value) in response.Headers.Concat(response.Content.Headers))
            {
                if (!HopByHopHeaders.Contains(name, StringComparer.OrdinalIgnoreCase))
                {
                    context.Response.Headers[name] = value.ToArray();
                }
            }
            await using var answer = await response.Content.ReadAsStreamAsync(context.RequestAborted);
            await answer.CopyToAsync(context.Response.Body, context.RequestAborted);
        }
        var outcome = await invocation.WaitAsync(context.RequestAborted);
        if (outcome.InvocationResponse.Result.Status != StatusResult.Types.Status.Success)
        {
            _channel.Log.Add("host", $"Invocation {invocationId} of {function.Name} ended {outcome.InvocationResponse.Result.Status}: " +
                outcome.InvocationResponse.Result.Exception?.Message);
        }
    }

    private HttpRequestMessage Forward(HttpContext context, string target, byte[]? body, string invocationId)
    {
        var forward = new HttpRequestMessage(new HttpMethod(context.Request.Method), new Uri(WorkerCapabilities["HttpUri"].TrimEnd('/') + target));
        if (body is not null)
        {
            forward.Content = new ByteArrayContent(body);
        }
        foreach (var (name, value) in context.Request.Headers)
        {
            if (HopByHopHeaders.Contains(name, StringComparer.OrdinalIgnoreCase) || name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }
            if (!forward.Headers.TryAddWithoutValidation(name, value.ToArray()))
            {
                forward.Content?.Headers.TryAddWithoutValidation(name, value.ToArray());
            }
        }
        // The address the front end saw is appended for the worker's forwarded-headers handling.
        forward.Headers.Remove("X-Forwarded-For");
        var forwardedFor = context.Request.Headers["X-Forwarded-For"].ToString();
        // As App Service's front end writes it: the client's address with its port.
        var peer = context.Connection.RemoteIpAddress is { } address ? $"{address}:{context.Connection.RemotePort}" : "";
        forward.Headers.TryAddWithoutValidation("X-Forwarded-For", forwardedFor.Length > 0 ? $"{forwardedFor}, {peer}" : peer);
        forward.Headers.Remove("X-Forwarded-Proto");
        forward.Headers.TryAddWithoutValidation("X-Forwarded-Proto", context.Request.Scheme);
        forward.Headers.Remove("X-Forwarded-Host");
        forward.Headers.TryAddWithoutValidation("X-Forwarded-Host", context.Request.Host.Value);
        forward.Headers.Remove("x-ms-invocation-id");
        forward.Headers.TryAddWithoutValidation("x-ms-invocation-id", invocationId);
        return forward;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _channel.TerminateAsync(TimeSpan.FromSeconds(5));
        }
        finally
        {
            try
            {
                // Kills the worker if it has not exited by then, and ends the thread that fences it.
                await _worker.StopAsync(TimeSpan.FromSeconds(10));
            }
            finally
            {
                _forwarder.Dispose();
                await _web.StopAsync();
                await _web.DisposeAsync();
            }
        }
    }

    /// <summary>An HTTP-triggered function as the host routes it, read from the worker's raw binding JSON.</summary>
    private sealed record HttpFunction(string Name, string FunctionId, string BindingName, string[] Methods, RouteTemplate Template)
    {
        private readonly TemplateMatcher _matcher = new(Template, new RouteValueDictionary());

        // A PathString made with its constructor: the path is already decoded and must not be decoded again.
        public bool Matches(string path, RouteValueDictionary values) => _matcher.TryMatch(new PathString(path), values);

        public static HttpFunction? From(RpcFunctionMetadata function)
        {
            foreach (var raw in function.RawBindings)
            {
                using var binding = JsonDocument.Parse(raw);
                var root = binding.RootElement;
                if (Property(root, "type")?.GetString() is { } type && type.Equals("httpTrigger", StringComparison.OrdinalIgnoreCase))
                {
                    var methods = Property(root, "methods")?.EnumerateArray().Select(m => m.GetString()!).ToArray() ?? [];
                    var route = Property(root, "route")?.GetString() ?? function.Name;
                    return new HttpFunction(function.Name, function.FunctionId, Property(root, "name")!.Value.GetString()!, methods,
                        TemplateParser.Parse(route));
                }
            }
            return null;
        }

        private static JsonElement? Property(JsonElement element, string name) =>
            element.EnumerateObject().Where(p => p.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).Select(p => (JsonElement?)p.Value).FirstOrDefault();
    }
}

/// <summary>The one EventStream the worker opens; everything on it goes through the host's WorkerChannel.</summary>
internal sealed class EventStreamService(WorkerChannel channel) : FunctionRpc.FunctionRpcBase
{
    public override Task EventStream(IAsyncStreamReader<StreamingMessage> requestStream, IServerStreamWriter<StreamingMessage> responseStream,
        ServerCallContext context) => channel.RunAsync(requestStream, responseStream, context.CancellationToken);
}

/// <summary>Pairs the host's requests with the worker's responses on the stream and collects the worker's logs.</summary>
internal sealed class WorkerChannel(HostLog log)
{
    private readonly ConcurrentDictionary<(StreamingMessage.ContentOneofCase, string), TaskCompletionSource<StreamingMessage>> _pending = new();
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private IServerStreamWriter<StreamingMessage>? _writer;
    private readonly TaskCompletionSource _streamEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource<bool> Connected { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public HostLog Log { get; } = log;

    public async Task RunAsync(IAsyncStreamReader<StreamingMessage> reader, IServerStreamWriter<StreamingMessage> writer, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var message in reader.ReadAllAsync(cancellationToken))
            {
                switch (message.ContentCase)
                {
                    case StreamingMessage.ContentOneofCase.StartStream:
                        _writer = writer;
                        Connected.TrySetResult(true);
                        break;
                    case StreamingMessage.ContentOneofCase.RpcLog:
                        var log = message.RpcLog;
                        Log.Add(log.Category, $"{log.Level}: {log.Message}{(log.Exception is null ? "" : "\n" + log.Exception.Message + "\n" + log.Exception.StackTrace)}");
                        break;
                    default:
                        var key = (message.ContentCase, IdOf(message));
                        if (_pending.TryRemove(key, out var waiter))
                        {
                            waiter.TrySetResult(message);
                        }
                        else
                        {
                            Log.Add("host", $"Unexpected {message.ContentCase} from the worker");
                        }
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            _streamEnded.TrySetResult();
            foreach (var waiter in _pending.Values)
            {
                waiter.TrySetException(new InvalidOperationException("The worker's stream ended."));
            }
        }
    }

    public async Task<StreamingMessage> RequestAsync(StreamingMessage request, StreamingMessage.ContentOneofCase responseCase, string id, TimeSpan timeout)
    {
        if (_streamEnded.Task.IsCompleted)
        {
            throw new InvalidOperationException("The worker's stream has ended.");
        }
        var waiter = new TaskCompletionSource<StreamingMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_pending.TryAdd((responseCase, id), waiter))
        {
            throw new InvalidOperationException($"A {responseCase} for '{id}' is already awaited.");
        }
        try
        {
            await SendAsync(request);
            return await waiter.Task.WaitAsync(timeout);
        }
        finally
        {
            // Also when the caller stops waiting: no answer is kept for a request nobody awaits.
            _pending.TryRemove((responseCase, id), out _);
        }
    }

    public async Task TerminateAsync(TimeSpan gracePeriod)
    {
        if (_writer is null || _streamEnded.Task.IsCompleted)
        {
            return;
        }
        try
        {
            await SendAsync(new StreamingMessage { WorkerTerminate = new WorkerTerminate { GracePeriod = Duration.FromTimeSpan(gracePeriod) } })
                .WaitAsync(gracePeriod);
            await _streamEnded.Task.WaitAsync(gracePeriod);
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or IOException or OperationCanceledException or Grpc.Core.RpcException)
        {
            // The worker is killed next if it has not exited.
            Log.Add("host", $"Terminating the worker: {ex.Message}");
        }
    }

    private async Task SendAsync(StreamingMessage message)
    {
        var writer = _writer ?? throw new InvalidOperationException("The worker has not connected.");
        await _writeLock.WaitAsync();
        try
        {
            await writer.WriteAsync(message);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private static string IdOf(StreamingMessage message) => message.ContentCase switch
    {
        StreamingMessage.ContentOneofCase.FunctionLoadResponse => message.FunctionLoadResponse.FunctionId,
        StreamingMessage.ContentOneofCase.InvocationResponse => message.InvocationResponse.InvocationId,
        _ => "",
    };
}
