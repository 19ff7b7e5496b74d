using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using Tickets.Api;
using Tickets.Functions;

var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.UseMiddleware<ProblemDetailsMiddleware>();

builder.Services
    .AddApplicationInsightsTelemetryWorkerService()
    .ConfigureFunctionsApplicationInsights();
builder.Services.AddTickets(builder.Configuration);
// The app's own counters (meter "Tickets") to Application Insights as custom metrics.
if (!string.IsNullOrEmpty(builder.Configuration[AppSettingNames.AppInsightsConnectionString]))
{
    builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
        .AddMeter(TicketsMetrics.MeterName)
        .AddAzureMonitorMetricExporter());
}
// Behind the Functions front end the connection's address is the platform's; the client's is the last
// X-Forwarded-For entry, which the front end appends.
builder.Services.PostConfigure<RateLimitOptions>(o => o.TrustForwardedFor = true);

builder.Build().Run();
