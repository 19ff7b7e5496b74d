// The worker's counterpart of Tickets.Server's endpoint filter: an HTTP function is an operation of the
// declaration by name, and ApiGate admits its request (authentication, rate limit) before the function runs.
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;
using Tickets.Api;

namespace Tickets.Functions;

internal sealed class ApiGateMiddleware : IFunctionsWorkerMiddleware
{
    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        if (context.GetHttpContext() is { } http && ApiRoutes.ByName.TryGetValue(context.FunctionDefinition.Name, out var route)
            && await ApiGate.AdmitAsync(route, http) is { } refused)
        {
            await refused.ExecuteAsync(http);
            return;
        }
        await next(context);
    }
}
