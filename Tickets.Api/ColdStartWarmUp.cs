// A cold start (a consumption plan pays one for every new instance) would otherwise put the opening of the first
// database connection and the token handler's first validation on the first buyer's request. Both run in the
// background as the process starts, alongside the host loading the functions; docs/benchmarks.md has the figures.
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Tickets.Api;

internal sealed class ColdStartWarmUp(NpgsqlDataSource dataSource, TokenService tokens, ILogger<ColdStartWarmUp> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Off the start-up path: the host goes on starting while this runs.
        await Task.Yield();
        try
        {
            await tokens.WarmUpAsync();
            await using var command = dataSource.CreateCommand("select 1");
            await command.ExecuteScalarAsync(stoppingToken);
        }
#pragma warning disable CA1031 // A warm-up must never stop the host: whatever fails here, the requests will meet and report.
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
#pragma warning restore CA1031
        {
            // An unreachable database is the health check's and the requests' to report, as 503s.
            logger.LogWarning("Warming up at start-up failed: {Reason}", ex.Message);
        }
    }
}
