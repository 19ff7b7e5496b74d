// Maps the declaration (ApiRoutes.All) as minimal API endpoints with their OpenAPI metadata. Tickets.Server maps
// its endpoints with it, and ApiDocument maps the same into the private app it generates the document from.
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Tickets.Api;

public static class ApiEndpoints
{
    public static IEndpointRouteBuilder MapApi(this IEndpointRouteBuilder app)
    {
        // Typed as a Func so that it binds as a route handler (with filters and its IResult executed), not as a
        // RequestDelegate, whose Task<IResult> would be discarded.
        Func<HttpContext, Task<IResult>> handler = ApiGate.RunAsync;
        foreach (var route in ApiRoutes.All)
        {
            var endpoint = app.MapMethods($"/{ApiRoutes.Prefix}/{route.Template}", ApiRoutes.MethodsOf(route), handler)
                .WithName(route.Name)
                .WithSummary(route.Summary)
                .WithTags(TagOf(route))
                .WithMetadata(route)
                .AddEndpointFilter(async (context, next) => await ApiGate.AdmitAsync(route, context.HttpContext) ?? await next(context));
            if (!route.Documented)
            {
                endpoint.ExcludeFromDescription();
            }
            if (route.Description is { } description)
            {
                endpoint.WithDescription(description);
            }
            // No Accepts metadata for the body: routing would then answer other content types itself, with a bare
            // 415 before the handler's problem document. ApiDocument describes the body from the declaration.
            endpoint.Produces(route.Status, route.Response, route.Status == StatusCodes.Status204NoContent ? null : route.ResponseContentType);
            foreach (var problem in route.AllProblems())
            {
                endpoint.ProducesProblem(problem.Status);
            }
        }
        return app;
    }

    /// <summary>The group an operation is listed under: auth, events, reservations, or operations.</summary>
    public static string TagOf(ApiRoute route) => route.Template.Split('/')[0] switch
    {
        "auth" => "Auth",
        "events" => "Events",
        "reservations" => "Reservations",
        _ => "Operations",
    };
}
