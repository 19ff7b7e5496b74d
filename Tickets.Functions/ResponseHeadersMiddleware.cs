// The headers every answer of the API carries (SecurityHeaders), as Tickets.Server's pipeline sets them.
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;
using Tickets.Api;

namespace Tickets.Functions;

internal sealed class ResponseHeadersMiddleware : IFunctionsWorkerMiddleware
{
    public Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        if (context.GetHttpContext() is { } http)
        {
            SecurityHeaders.Apply(http.Response);
        }
        return next(context);
    }
}
