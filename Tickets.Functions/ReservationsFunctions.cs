using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Tickets.Api;

namespace Tickets.Functions;

public sealed class ReservationsFunctions(ReservationEndpoints reservations)
{
    [Function("Hold")]
    public Task<IResult> Hold([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = ApiRoutes.Hold)] HttpRequest req) =>
        reservations.HoldAsync(req.HttpContext);

    [Function("ListReservations")]
    public Task<IResult> List([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = ApiRoutes.Reservations)] HttpRequest req) =>
        reservations.ListAsync(req.HttpContext);

    [Function("GetReservation")]
    public Task<IResult> Get([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = ApiRoutes.Reservation)] HttpRequest req, string id) =>
        reservations.GetAsync(req.HttpContext, id);

    [Function("Release")]
    public Task<IResult> Release([HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = ApiRoutes.Reservation)] HttpRequest req, string id) =>
        reservations.ReleaseAsync(req.HttpContext, id);

    [Function("Confirm")]
    public Task<IResult> Confirm([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = ApiRoutes.Confirm)] HttpRequest req, string id) =>
        reservations.ConfirmAsync(req.HttpContext, id);

    [Function("Cancel")]
    public Task<IResult> Cancel([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = ApiRoutes.Cancel)] HttpRequest req, string id) =>
        reservations.CancelAsync(req.HttpContext, id);
}
