// /api/health (database reachable?) and /api/health/live (process up; the HTTP ceiling in the benchmark).
using Microsoft.AspNetCore.Http;
using Npgsql;
using Tickets.Data;

namespace Tickets.Api;

public sealed class HealthEndpoints(Database database)
{
    /// <summary>Bounded so that a dead database answers 503 fast instead of hanging the probe.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(1);

    public async Task<IResult> HealthAsync(HttpContext context)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        timeout.CancelAfter(Timeout);
        try
        {
            await using var command = database.DataSource.CreateCommand("select 1");
            await command.ExecuteScalarAsync(timeout.Token);
            context.Response.Headers.CacheControl = "no-store";
            return TypedResults.Ok(new HealthResponse("ok", "ok"));
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or OperationCanceledException or InvalidOperationException
            && !context.RequestAborted.IsCancellationRequested)
        {
            return Problems.Unavailable(ProblemCodes.DatabaseUnavailable, "The database is unreachable.");
        }
    }

    public static IResult Live() => TypedResults.Ok(new HealthResponse("ok", "not checked"));
}
