// Each HTTP function is an operation of the declaration (ApiRoutes.All) by name; ApiGateMiddleware admits the
// request (authentication, rate limit) before it runs, and a test checks name, methods and route against the declaration.
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Tickets.Api;

namespace Tickets.Functions;

public sealed class AuthFunctions
{
    [Function("Register")]
    public Task<IResult> Register([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = ApiRoutes.Register)] HttpRequest req) =>
        ApiGate.RunAsync(req.HttpContext);

    [Function("Token")]
    public Task<IResult> Token([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = ApiRoutes.Token)] HttpRequest req) =>
        ApiGate.RunAsync(req.HttpContext);

    [Function("Guest")]
    public Task<IResult> Guest([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = ApiRoutes.Guest)] HttpRequest req) =>
        ApiGate.RunAsync(req.HttpContext);
}
