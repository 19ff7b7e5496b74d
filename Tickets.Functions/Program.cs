using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Tickets.Api;
using Tickets.Functions;

var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.UseMiddleware<ProblemDetailsMiddleware>();

builder.Services
    .AddApplicationInsightsTelemetryWorkerService()
    .ConfigureFunctionsApplicationInsights();
builder.Services.AddTickets(builder.Configuration);
// Behind the Functions front end the connection's address is the platform's; the client's is the last
// X-Forwarded-For entry, which the front end appends.
builder.Services.PostConfigure<RateLimitOptions>(o => o.TrustForwardedFor = true);

builder.Build().Run();
