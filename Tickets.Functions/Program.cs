using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.AspNetCore.Server.Kestrel.Core;
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
// The worker's ASP.NET Core integration has already applied the X-Forwarded-For entry the Functions host
// appended (one hop) to the connection's address; what is left of the header is whatever the client claimed.
builder.Services.PostConfigure<RateLimitOptions>(o => o.TrustForwardedFor = false);
// The same web server settings as Tickets.Server for the worker's Kestrel, which the host forwards requests to.
builder.Services.Configure<KestrelServerOptions>(KestrelDefaults.Apply);

builder.Build().Run();
