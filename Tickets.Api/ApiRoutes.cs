// The one table of HTTP routes. Tickets.Server maps it directly; the Functions app declares the same templates
// in its [HttpTrigger] attributes (constants below), and a test checks the built functions.metadata against it.
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Tickets.Api;

public sealed record ApiRoute(string Name, string Method, string Template, Func<HttpContext, Task<IResult>> Handle);

public static class ApiRoutes
{
    /// <summary>Every route lives under this prefix (the Functions host's default routePrefix).</summary>
    public const string Prefix = "api";

    public const string Register = "auth/register";
    public const string Token = "auth/token";
    public const string Guest = "auth/guest";
    public const string Events = "events";
    public const string Event = "events/{id}";
    public const string TicketTypes = "events/{id}/ticket-types";
    public const string TicketType = "events/{id}/ticket-types/{typeId}";
    public const string Hold = "reservations/hold";
    public const string Reservations = "reservations";
    public const string Reservation = "reservations/{id}";
    public const string Confirm = "reservations/{id}/confirm";
    public const string Cancel = "reservations/{id}/cancel";
    public const string Health = "health";
    public const string Live = "health/live";
    public const string OpenApi = "openapi.json";
    public const string Docs = "docs";

    /// <summary>NCRONTAB (with seconds) of the expired-hold sweeper: every minute, on the minute.</summary>
    public const string ReleaseExpiredHoldsSchedule = "0 */1 * * * *";

    public static readonly IReadOnlyList<ApiRoute> All =
    [
        new("Register", "POST", Register, c => AuthOf(c).RegisterAsync(c)),
        new("Token", "POST", Token, c => AuthOf(c).TokenAsync(c)),
        new("Guest", "POST", Guest, c => AuthOf(c).GuestAsync(c)),
        new("CreateEvent", "POST", Events, c => EventsOf(c).CreateAsync(c)),
        new("ListEvents", "GET", Events, c => EventsOf(c).ListAsync(c)),
        new("GetEvent", "GET", Event, c => EventsOf(c).GetAsync(c, Id(c))),
        new("UpdateEvent", "PATCH", Event, c => EventsOf(c).UpdateAsync(c, Id(c))),
        new("CreateTicketType", "POST", TicketTypes, c => TicketTypesOf(c).CreateAsync(c, Id(c))),
        new("ListTicketTypes", "GET", TicketTypes, c => TicketTypesOf(c).ListAsync(c, Id(c))),
        new("GetTicketType", "GET", TicketType, c => TicketTypesOf(c).GetAsync(c, Id(c), TypeId(c))),
        new("UpdateTicketType", "PATCH", TicketType, c => TicketTypesOf(c).UpdateAsync(c, Id(c), TypeId(c))),
        new("Hold", "POST", Hold, c => ReservationsOf(c).HoldAsync(c)),
        new("ListReservations", "GET", Reservations, c => ReservationsOf(c).ListAsync(c)),
        new("GetReservation", "GET", Reservation, c => ReservationsOf(c).GetAsync(c, Id(c))),
        new("Release", "DELETE", Reservation, c => ReservationsOf(c).ReleaseAsync(c, Id(c))),
        new("Confirm", "POST", Confirm, c => ReservationsOf(c).ConfirmAsync(c, Id(c))),
        new("Cancel", "POST", Cancel, c => ReservationsOf(c).CancelAsync(c, Id(c))),
        new("Health", "GET", Health, c => HealthOf(c).HealthAsync(c)),
        new("Live", "GET", Live, c => Task.FromResult(HealthEndpoints.Live())),
        new("OpenApi", "GET", OpenApi, c => Task.FromResult(DocsEndpoints.OpenApi())),
        new("Docs", "GET", Docs, c => Task.FromResult(DocsEndpoints.Page())),
    ];

    /// <summary>The methods a route answers: a GET route answers HEAD too (RFC 9110 §9.3.2), without a body.</summary>
    public static IReadOnlyList<string> MethodsOf(ApiRoute route) => route.Method == "GET" ? ["GET", "HEAD"] : [route.Method];

    private static string Id(HttpContext c) => c.Request.RouteValues["id"] as string ?? "";
    private static string TypeId(HttpContext c) => c.Request.RouteValues["typeId"] as string ?? "";
    private static TicketTypeEndpoints TicketTypesOf(HttpContext c) => c.RequestServices.GetRequiredService<TicketTypeEndpoints>();
    private static AuthEndpoints AuthOf(HttpContext c) => c.RequestServices.GetRequiredService<AuthEndpoints>();
    private static EventEndpoints EventsOf(HttpContext c) => c.RequestServices.GetRequiredService<EventEndpoints>();
    private static ReservationEndpoints ReservationsOf(HttpContext c) => c.RequestServices.GetRequiredService<ReservationEndpoints>();
    private static HealthEndpoints HealthOf(HttpContext c) => c.RequestServices.GetRequiredService<HealthEndpoints>();
}
