// Each HTTP function is an operation of the declaration (ApiRoutes.All) by name; ApiGateMiddleware admits the
// request (authentication, rate limit) before it runs, and a test checks name, methods and route against the declaration.
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Tickets.Api;

namespace Tickets.Functions;

public sealed class ReservationsFunctions
{
    [Function("Hold")]
    public Task<IResult> Hold([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = ApiRoutes.Hold)] HttpRequest req) =>
        ApiGate.RunAsync(req.HttpContext);

    [Function("ListReservations")]
    public Task<IResult> List([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = ApiRoutes.Reservations)] HttpRequest req) =>
        ApiGate.RunAsync(req.HttpContext);

    [Function("GetReservation")]
    public Task<IResult> Get([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = ApiRoutes.Reservation)] HttpRequest req) =>
        ApiGate.RunAsync(req.HttpContext);

    [Function("Release")]
    public Task<IResult> Release([HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = ApiRoutes.Reservation)] HttpRequest req) =>
        ApiGate.RunAsync(req.HttpContext);

    [Function("Confirm")]
    public Task<IResult> Confirm([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = ApiRoutes.Confirm)] HttpRequest req) =>
        ApiGate.RunAsync(req.HttpContext);

    [Function("Cancel")]
    public Task<IResult> Cancel([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = ApiRoutes.Cancel)] HttpRequest req) =>
        ApiGate.RunAsync(req.HttpContext);
}
