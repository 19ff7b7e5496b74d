using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using Tickets.Api;
using Tickets.Functions;

var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.UseMiddleware<ResponseHeadersMiddleware>();
builder.UseMiddleware<ProblemDetailsMiddleware>();
builder.UseMiddleware<ApiGateMiddleware>();

builder.Services
    .AddApplicationInsightsTelemetryWorkerService()
    .ConfigureFunctionsApplicationInsights();
// Worker log levels come from the Logging section (Logging__LogLevel__* app settings; host.json does not reach the
// worker). The Application Insights SDK adds a rule that drops everything below Warning for its provider, which
// would override those levels, so it goes.
builder.Logging.Services.Configure<LoggerFilterOptions>(options =>
{
    var sdkDefault = options.Rules.FirstOrDefault(rule =>
        rule.ProviderName == "Microsoft.Extensions.Logging.ApplicationInsights.ApplicationInsightsLoggerProvider");
    if (sdkDefault is not null)
    {
        options.Rules.Remove(sdkDefault);
    }
});
builder.Services.AddTickets(builder.Configuration);
// The app's own counters (meter "Tickets") to Application Insights as custom metrics.
if (!string.IsNullOrEmpty(builder.Configuration[AppSettingNames.AppInsightsConnectionString]))
{
    builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
        .AddMeter(TicketsMetrics.MeterName)
        .AddAzureMonitorMetricExporter(exporter => exporter.Credential = TelemetryIdentity.Credential(builder.Configuration)));
}
// The worker's ASP.NET Core integration has already applied the X-Forwarded-For entry the Functions host
// appended (one hop) to the connection's address; what is left of the header is whatever the client claimed.
builder.Services.PostConfigure<RateLimitOptions>(o => o.TrustForwardedFor = false);
// The same web server settings as Tickets.Server for the worker's Kestrel, which the host forwards requests to.
builder.Services.Configure<KestrelServerOptions>(KestrelDefaults.Apply);

builder.Build().Run();
