// Each HTTP function is an operation of the declaration (ApiRoutes.All) by name; ApiGateMiddleware admits the
// request (authentication, rate limit) before it runs, and a test checks name, methods and route against the declaration.
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Tickets.Api;

namespace Tickets.Functions;

public sealed class TicketTypesFunctions
{
    [Function("CreateTicketType")]
    public Task<IResult> Create([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = ApiRoutes.TicketTypes)] HttpRequest req) =>
        ApiGate.RunAsync(req.HttpContext);

    [Function("ListTicketTypes")]
    public Task<IResult> List([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = ApiRoutes.TicketTypes)] HttpRequest req) =>
        ApiGate.RunAsync(req.HttpContext);

    [Function("GetTicketType")]
    public Task<IResult> Get([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = ApiRoutes.TicketType)] HttpRequest req) =>
        ApiGate.RunAsync(req.HttpContext);

    [Function("UpdateTicketType")]
    public Task<IResult> Update([HttpTrigger(AuthorizationLevel.Anonymous, "patch", Route = ApiRoutes.TicketType)] HttpRequest req) =>
        ApiGate.RunAsync(req.HttpContext);
}
