using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Tickets.Api;

namespace Tickets.Functions;

public sealed class EventsFunctions(EventEndpoints events)
{
    [Function("CreateEvent")]
    public Task<IResult> Create([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = ApiRoutes.Events)] HttpRequest req) =>
        events.CreateAsync(req.HttpContext);

    [Function("ListEvents")]
    public Task<IResult> List([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = ApiRoutes.Events)] HttpRequest req) =>
        events.ListAsync(req.HttpContext);

    [Function("GetEvent")]
    public Task<IResult> Get([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = ApiRoutes.Event)] HttpRequest req, string id) =>
        events.GetAsync(req.HttpContext, id);

    [Function("UpdateEvent")]
    public Task<IResult> Update([HttpTrigger(AuthorizationLevel.Anonymous, "patch", Route = ApiRoutes.Event)] HttpRequest req, string id) =>
        events.UpdateAsync(req.HttpContext, id);
}
