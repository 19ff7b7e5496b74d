// What every operation does before its handler, once per host: authenticate as the declaration says (Access),
// then count the request against its rate limit. Tickets.Server runs it as an endpoint filter, the Functions
// worker as a worker middleware; both then run the declared handler with the admitted ApiCall.
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Tickets.Data;

namespace Tickets.Api;

/// <summary>An admitted request: the HTTP context, the operation, and the authenticated caller where it needs one.</summary>
public sealed class ApiCall(HttpContext http, ApiRoute route, Caller? caller)
{
    public HttpContext Http { get; } = http;
    public ApiRoute Route { get; } = route;
    public HttpRequest Request => Http.Request;
    public CancellationToken Aborted => Http.RequestAborted;

    /// <summary>The authenticated caller; only operations open to anyone have none.</summary>
    public Caller Caller => caller ?? throw new InvalidOperationException($"{Route.Name} is open to anyone and has no caller.");

    /// <summary>The {id} of the route as a GUID; null when it is not one (answered as an unknown id, 404).</summary>
    public Guid? Id => Guid.TryParse(Http.Request.RouteValues["id"] as string, out var id) ? id : null;
}

public static class ApiGate
{
    /// <summary>Admits the request to <paramref name="route"/>, or returns the 401/403/429 problem to answer with.</summary>
    public static async Task<IResult?> AdmitAsync(ApiRoute route, HttpContext http)
    {
        var services = http.RequestServices;
        Caller? caller = null;
        if (route.Access != Access.Anyone)
        {
            var tokens = services.GetRequiredService<TokenService>();
            var (authenticated, denied) = route.Access == Access.Admin
                ? await Authenticate.RequireAdminAsync(tokens, services.GetRequiredService<UserStore>(), http)
                : await Authenticate.RequireAsync(tokens, http);
            if (denied is not null)
            {
                return denied;
            }
            caller = authenticated;
        }
        if (route.Limit != RateLimit.None)
        {
            var limits = services.GetRequiredService<AbuseLimits>();
            var limited = route.Limit switch
            {
                RateLimit.Auth => limits.Auth(http),
                RateLimit.Writes => limits.Writes(caller!.UserId),
                RateLimit.Holds => limits.Writes(caller!.UserId) ?? limits.HoldsFromClient(http),
                _ => throw new InvalidOperationException($"Unknown rate limit {route.Limit}"),
            };
            if (limited is not null)
            {
                return limited;
            }
        }
        http.Features.Set(new ApiCall(http, route, caller));
        return null;
    }

    /// <summary>Runs the declared handler of a request <see cref="AdmitAsync"/> admitted; throws for one it did not see.</summary>
    public static Task<IResult> RunAsync(HttpContext http) =>
        http.Features.Get<ApiCall>() is { } call
            ? call.Route.Handle(call)
            : throw new InvalidOperationException("The request reached its handler without passing ApiGate.AdmitAsync.");
}
