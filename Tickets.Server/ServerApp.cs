// Builds the web application. Tests build it too (on a random port), so everything the README's run
// command does is what the end-to-end tests exercise.
using Npgsql;
using Tickets.Api;
using Tickets.Data;

namespace Tickets.Server;

public static class ServerApp
{
    public const string DefaultUrl = "http://127.0.0.1:7071";

    public static async Task<WebApplication> BuildAsync(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.WebHost.ConfigureKestrel(KestrelDefaults.Apply);
        if (string.IsNullOrEmpty(builder.Configuration["urls"]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }
        configure?.Invoke(builder);
        await EnsureDatabaseAsync(builder);

        builder.Services.AddTickets(builder.Configuration);
        builder.Services.Configure<SweepTimerOptions>(builder.Configuration.GetSection("Tickets"));
        builder.Services.AddHostedService<SweepTimer>();

        var app = builder.Build();
        app.Use((context, next) =>
        {
            SecurityHeaders.Apply(context.Response);
            return next(context);
        });
        // The one exception handler (the Functions app's worker middleware does the same): an unreachable
        // database is a logged warning and a 503, anything else a logged error and a 500 problem.
        app.Use(async (context, next) =>
        {
            try
            {
                await next(context);
            }
            catch (Exception ex) when (!context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
            {
                var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Tickets.Errors");
                context.Response.Clear();
                await Problems.ForException(ex, logger).ExecuteAsync(context);
            }
        });
        app.UseStatusCodePages(async status =>
        {
            // Unmatched routes and methods get a problem document too, never an empty body.
            var http = status.HttpContext;
            var result = http.Response.StatusCode == StatusCodes.Status405MethodNotAllowed
                ? Problems.Create(StatusCodes.Status405MethodNotAllowed, ProblemCodes.MethodNotAllowed, "Method not allowed.", "This route does not accept this method.")
                : Problems.NotFound("No such route.");
            await result.ExecuteAsync(http);
        });
        app.MapApi();
        return app;
    }

    /// <summary>
    /// With no connection string in Development, start the repository's throwaway PostgreSQL and apply the
    /// migrations, so `dotnet run` works on a fresh machine. Elsewhere a missing connection string is an error,
    /// and the schema is applied only by the `migrate` command (the deployment pipeline runs it).
    /// </summary>
    private static async Task EnsureDatabaseAsync(WebApplicationBuilder builder)
    {
        if (!string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString("Tickets")))
        {
            return;
        }
        if (!builder.Environment.IsDevelopment())
        {
            throw new InvalidOperationException(
                $"{AppSettingNames.ConnectionString} is not set. Outside Development the server needs an explicit PostgreSQL connection string.");
        }
        using var loggerFactory = LoggerFactory.Create(l => l.AddSimpleConsole(o => o.SingleLine = true));
        var logger = loggerFactory.CreateLogger("Tickets.LocalPostgres");
        var connectionString = await new LocalPostgres(logger).EnsureStartedAsync("tickets");
        await using (var dataSource = NpgsqlDataSource.Create(connectionString))
        {
            await Migrator.MigrateAsync(dataSource, logger, CancellationToken.None);
        }
        builder.Configuration["ConnectionStrings:Tickets"] = connectionString;
        logger.LogInformation("Using local PostgreSQL on port {Port}", LocalPostgres.DefaultPort);
    }
}
