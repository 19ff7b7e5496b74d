using Tickets.Api;
using Tickets.Tests.StandInHost;

namespace Tickets.Tests;

/// <summary>
/// The built Tickets.Functions worker, as a process of its own, under the stand-in Functions host: requests go
/// through the host's routing and proxying into the worker's ASP.NET Core integration. The worker's timer runs
/// only when a test invokes it (<see cref="FireSweepTimerAsync"/>); the real host fires it every minute.
/// </summary>
public class FunctionsHost : ApiHost
{
    private StandInFunctionsHost? _host;

    public override string Name => "Functions";

    public StandInFunctionsHost StandIn => _host ?? throw new InvalidOperationException("The host has not started.");

    protected override async Task StartAsync(IReadOnlyDictionary<string, string?> settings)
    {
        var appSettings = settings.Where(s => s.Value is not null).ToDictionary(s => s.Key, s => s.Value!);
        // The worker's console log (kept in the host log): the app's own information, the framework's warnings.
        appSettings.TryAdd("Logging:LogLevel:Default", "Information");
        appSettings.TryAdd("Logging:LogLevel:Microsoft", "Warning");
        appSettings.TryAdd("AZURE_FUNCTIONS_ENVIRONMENT", "Testing");
        _host = await StandInFunctionsHost.StartAsync(FunctionsBuild.OutputDirectory, appSettings, ApiRoutes.Prefix, Log);
        BaseAddress = _host.BaseAddress;
        // The worker opens its web server's port a moment after it reports its functions loaded, later still on a
        // busy machine: the tests start once it accepts connections (the stand-in's own retries only imitate the
        // host's, for about a second).
        var httpUri = new Uri(_host.WorkerCapabilities["HttpUri"]);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                using var probe = new System.Net.Sockets.TcpClient();
                await probe.ConnectAsync(httpUri.Host, httpUri.Port);
                break;
            }
            catch (System.Net.Sockets.SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }
        }
    }

    protected override async Task StopAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }
    }

    public override async Task FireSweepTimerAsync()
    {
        var result = await StandIn.InvokeTimerAsync("ReleaseExpiredHolds");
        Assert.True(result.Status == StandInHost.Rpc.StatusResult.Types.Status.Success, $"The timer failed: {result.Exception?.Message}");
    }

    public override async Task FireWebhookDeliveryAsync()
    {
        var result = await StandIn.InvokeTimerAsync("DeliverWebhooks");
        Assert.True(result.Status == StandInHost.Rpc.StatusResult.Types.Status.Success, $"The timer failed: {result.Exception?.Message}");
    }
}
