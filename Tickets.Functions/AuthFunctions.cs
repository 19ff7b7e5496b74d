using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Tickets.Api;

namespace Tickets.Functions;

public sealed class AuthFunctions(AuthEndpoints auth)
{
    [Function("Register")]
    public Task<IResult> Register([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = ApiRoutes.Register)] HttpRequest req) =>
        auth.RegisterAsync(req.HttpContext);

    [Function("Token")]
    public Task<IResult> Token([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = ApiRoutes.Token)] HttpRequest req) =>
        auth.TokenAsync(req.HttpContext);

    [Function("Guest")]
    public Task<IResult> Guest([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = ApiRoutes.Guest)] HttpRequest req) =>
        auth.GuestAsync(req.HttpContext);
}
