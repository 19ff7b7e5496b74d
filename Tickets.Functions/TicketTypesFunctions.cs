using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Tickets.Api;

namespace Tickets.Functions;

public sealed class TicketTypesFunctions(TicketTypeEndpoints types)
{
    [Function("CreateTicketType")]
    public Task<IResult> Create([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = ApiRoutes.TicketTypes)] HttpRequest req, string id) =>
        types.CreateAsync(req.HttpContext, id);

    [Function("ListTicketTypes")]
    public Task<IResult> List([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = ApiRoutes.TicketTypes)] HttpRequest req, string id) =>
        types.ListAsync(req.HttpContext, id);

    [Function("GetTicketType")]
    public Task<IResult> Get([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = ApiRoutes.TicketType)] HttpRequest req, string id, string typeId) =>
        types.GetAsync(req.HttpContext, id, typeId);

    [Function("UpdateTicketType")]
    public Task<IResult> Update([HttpTrigger(AuthorizationLevel.Anonymous, "patch", Route = ApiRoutes.TicketType)] HttpRequest req, string id, string typeId) =>
        types.UpdateAsync(req.HttpContext, id, typeId);
}
