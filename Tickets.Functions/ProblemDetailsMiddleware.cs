// The worker's counterpart of the server's exception handler: an exception escaping an HTTP function becomes
// the same problem document (503 + Retry-After for an unreachable database), not the host's bare 500.
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;
using Microsoft.Extensions.Logging;
using Tickets.Api;

namespace Tickets.Functions;

internal sealed class ProblemDetailsMiddleware(ILogger<ProblemDetailsMiddleware> logger) : IFunctionsWorkerMiddleware
{
    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        try
        {
            await next(context);
        }
        catch (Exception ex) when (context.GetHttpContext() is { } http && !http.Response.HasStarted)
        {
            await Problems.ForException(ex, logger).ExecuteAsync(http);
        }
    }
}
