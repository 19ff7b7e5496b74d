using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Tickets.Api;

namespace Tickets.Functions;

public sealed class OperationsFunctions(HealthEndpoints health, ExpiredHoldsJob expiredHolds)
{
    [Function("Health")]
    public Task<IResult> Health([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = ApiRoutes.Health)] HttpRequest req) =>
        health.HealthAsync(req.HttpContext);

    [Function("Live")]
    public IResult Live([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = ApiRoutes.Live)] HttpRequest req) =>
        HealthEndpoints.Live();

    [Function("OpenApi")]
    public IResult OpenApi([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = ApiRoutes.OpenApi)] HttpRequest req) =>
        DocsEndpoints.OpenApi();

    [Function("Docs")]
    public IResult Docs([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = ApiRoutes.Docs)] HttpRequest req) =>
        DocsEndpoints.Page(req.HttpContext);

    [Function("DocsFile")]
    public IResult DocsFile([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = ApiRoutes.DocsFile)] HttpRequest req, string file) =>
        DocsEndpoints.File(req.HttpContext, file);

    /// <summary>Every minute; the host's singleton lease (in AzureWebJobsStorage) keeps it to one instance at a time.</summary>
    [Function("ReleaseExpiredHolds")]
    public Task ReleaseExpiredHolds([TimerTrigger(ApiRoutes.ReleaseExpiredHoldsSchedule)] TimerInfo timer, CancellationToken cancellationToken) =>
        expiredHolds.RunAsync(cancellationToken);
}
