// Each HTTP function is an operation of the declaration (ApiRoutes.All) by name; ApiGateMiddleware admits the
// request (authentication, rate limit) before it runs, and a test checks name, methods and route against the declaration.
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Tickets.Api;

namespace Tickets.Functions;

public sealed class OperationsFunctions(ExpiredHoldsJob expiredHolds)
{
    [Function("Health")]
    public Task<IResult> Health([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = ApiRoutes.Health)] HttpRequest req) =>
        ApiGate.RunAsync(req.HttpContext);

    [Function("Live")]
    public Task<IResult> Live([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = ApiRoutes.Live)] HttpRequest req) =>
        ApiGate.RunAsync(req.HttpContext);

    [Function("OpenApi")]
    public Task<IResult> OpenApi([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = ApiRoutes.OpenApi)] HttpRequest req) =>
        ApiGate.RunAsync(req.HttpContext);

    [Function("Docs")]
    public Task<IResult> Docs([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = ApiRoutes.Docs)] HttpRequest req) =>
        ApiGate.RunAsync(req.HttpContext);

    [Function("DocsFile")]
    public Task<IResult> DocsFile([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = ApiRoutes.DocsFile)] HttpRequest req) =>
        ApiGate.RunAsync(req.HttpContext);

    /// <summary>Every minute; the host's singleton lease (in AzureWebJobsStorage) keeps it to one instance at a time.</summary>
    [Function("ReleaseExpiredHolds")]
    public Task ReleaseExpiredHolds([TimerTrigger(ApiRoutes.ReleaseExpiredHoldsSchedule)] TimerInfo timer, CancellationToken cancellationToken) =>
        expiredHolds.RunAsync(cancellationToken);
}
