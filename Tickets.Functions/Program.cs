using Azure.Monitor.OpenTelemetry.Exporter;
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
builder.UseMiddleware<ProblemDetailsMiddleware>();

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
// Behind the Functions front end the connection's address is the platform's; the client's is the last
// X-Forwarded-For entry, which the front end appends.
builder.Services.PostConfigure<RateLimitOptions>(o => o.TrustForwardedFor = true);

builder.Build().Run();
