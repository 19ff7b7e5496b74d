using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tickets.Server;
using Tickets.Tests.StandInHost;

namespace Tickets.Tests;

/// <summary>
/// Tickets.Server on real Kestrel (127.0.0.1, random port), built by the same ServerApp.BuildAsync the run command
/// uses. The sweep timer ticks every second here.
/// </summary>
public class ServerHost : ApiHost
{
    private WebApplication? _app;

    public override string Name => "Server";

    protected override async Task StartAsync(IReadOnlyDictionary<string, string?> settings)
    {
        _app = await ServerApp.BuildAsync(["--urls", "http://127.0.0.1:0", "--environment", "Testing"], builder =>
        {
            builder.Configuration.AddInMemoryCollection(settings.Prepend(new("Tickets:SweepSchedule", "* * * * * *")));
            builder.Logging.ClearProviders();
            builder.Logging.AddProvider(new HostLogProvider(Log));
        });
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseAddress = new Uri(address + "/api/");
    }

    public override Task FireSweepTimerAsync() => Task.CompletedTask;

    public override Task FireWebhookDeliveryAsync() => Task.CompletedTask;

    protected override async Task StopAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    /// <summary>The app's warnings and errors, and its own information logs, into the host's log.</summary>
    private sealed class HostLogProvider(HostLog log) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(log, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(HostLog log, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) =>
                logLevel >= (category.StartsWith("Tickets", StringComparison.Ordinal) ? LogLevel.Information : LogLevel.Warning);

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (IsEnabled(logLevel))
                {
                    log.Add(category, $"{logLevel}: {formatter(state, exception)}{(exception is null ? "" : "\n" + exception)}");
                }
            }
        }
    }
}
