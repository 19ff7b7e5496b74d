// The one registration both hosts call: the data source, the engine, the endpoints and their options.
using System.Data.Common;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Tickets.Data;

namespace Tickets.Api;

public static class TicketsServices
{
    public static IServiceCollection AddTickets(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<JwtOptions>()
            .Bind(configuration.GetSection("Jwt"))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<JwtOptions>, JwtOptionsValidator>();
        services.AddOptions<DatabaseOptions>()
            .Configure(o => o.ConnectionString = configuration.GetConnectionString("Tickets"))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<DatabaseOptions>, DatabaseOptionsValidator>();
        services.AddOptions<RateLimitOptions>().Bind(configuration.GetSection("RateLimits"));
        services.AddSingleton<AbuseLimits>();
        services.AddSingleton<SignInThrottle>();
        services.AddOptions<HumanCheckOptions>().Bind(configuration.GetSection("HumanCheck"));
        services.AddSingleton<HumanCheck>();
        services.AddOptions<TicketsOptions>()
            .Bind(configuration.GetSection("Tickets"))
            .ValidateOnStart();
        services.ConfigureHttpJsonOptions(o => ApiJson.Configure(o.SerializerOptions));
        services.AddSingleton(TimeProvider.System);

        services.AddSingleton(sp => CreateDataSource(configuration, sp.GetRequiredService<ILoggerFactory>()));
        services.AddSingleton(sp => new Database(sp.GetRequiredService<NpgsqlDataSource>(), sp.GetRequiredService<ILogger<Database>>())
        {
            PreparedStatements = sp.GetRequiredService<IOptions<TicketsOptions>>().Value.PreparedStatements,
        });
        services.AddSingleton(sp => new ReservationEngine(sp.GetRequiredService<Database>(), sp.GetRequiredService<ILogger<ReservationEngine>>())
        {
            MaxActiveHoldsPerUser = sp.GetRequiredService<IOptions<RateLimitOptions>>().Value.MaxActiveHoldsPerUser,
            MaxHeldSeatsPerUser = sp.GetRequiredService<IOptions<RateLimitOptions>>().Value.MaxHeldSeatsPerUser,
        });
        services.AddSingleton(configuration.GetSection("Tickets:Batching").Get<BatchOptions>() ?? new BatchOptions());
        services.AddSingleton(sp =>
        {
            var combiner = ActivatorUtilities.CreateInstance<HoldCombiner>(sp);
            combiner.HoldBatchCompleted += (size, whole) => TicketsMetrics.BatchSize.Record(size,
                new KeyValuePair<string, object?>("kind", "hold"), new KeyValuePair<string, object?>("whole", whole));
            combiner.ChangeBatchCompleted += (size, whole) => TicketsMetrics.BatchSize.Record(size,
                new KeyValuePair<string, object?>("kind", "change"), new KeyValuePair<string, object?>("whole", whole));
            return combiner;
        });
        services.AddSingleton<EventStore>();
        services.AddSingleton<TicketTypeStore>();
        services.AddSingleton<UserStore>();
        services.AddSingleton<TokenService>();
        services.AddSingleton<ExpiredHoldsJob>();
        services.AddOptions<WebhookOptions>()
            .Bind(configuration.GetSection("Webhooks"))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<WebhookOptions>, WebhookOptions.Validator>();
        services.AddSingleton<WebhookSecrets>();
        services.AddSingleton<WebhookTargets>();
        services.AddSingleton<WebhookStore>();
        services.AddSingleton<WebhookDelivery>();
        services.AddHostedService<ColdStartWarmUp>();

        services.AddSingleton<AuthEndpoints>();
        services.AddSingleton<EventEndpoints>();
        services.AddSingleton<TicketTypeEndpoints>();
        services.AddSingleton<ReservationEndpoints>();
        services.AddSingleton<WebhookEndpoints>();
        services.AddSingleton<HealthEndpoints>();
        services.AddSingleton<DocsPage>();
        return services;
    }

    public static NpgsqlDataSource CreateDataSource(IConfiguration configuration, ILoggerFactory loggerFactory)
    {
        // Commands such as `migrate` use the services without starting the host, where start-up validation runs.
        var connectionString = configuration.GetConnectionString("Tickets");
        if (new DatabaseOptions { ConnectionString = connectionString }.Problem() is { } problem)
        {
            throw new InvalidOperationException(problem);
        }
        var builder = new NpgsqlDataSourceBuilder(WithDefaults(connectionString!));
        builder.UseLoggerFactory(loggerFactory);
        return builder.Build();
    }

    /// <summary>
    /// Bounded waits unless the connection string says otherwise: a dead database must cost a request about a
    /// second (then 503), not Npgsql's 15 s connect and 30 s command defaults.
    /// </summary>
    public static string WithDefaults(string connectionString)
    {
        // NpgsqlConnectionStringBuilder.ContainsKey is true for every keyword it knows, set or not, so the
        // keywords actually given are read with the plain builder.
        var given = new DbConnectionStringBuilder { ConnectionString = connectionString }.Keys.Cast<string>()
            .Select(k => k.Replace(" ", "", StringComparison.Ordinal).ToUpperInvariant()).ToHashSet();
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!given.Overlaps(["TIMEOUT", "CONNECTTIMEOUT", "CONNECTIONTIMEOUT"]))
        {
            builder.Timeout = 2;
        }
        if (!given.Contains("COMMANDTIMEOUT"))
        {
            builder.CommandTimeout = 10;
        }
        if (!given.Contains("CANCELLATIONTIMEOUT"))
        {
            builder.CancellationTimeout = 1000;
        }
        if (!given.Contains("APPLICATIONNAME"))
        {
            builder.ApplicationName = "tickets";
        }
        return builder.ConnectionString;
    }

    private sealed class JwtOptionsValidator : IValidateOptions<JwtOptions>
    {
        public ValidateOptionsResult Validate(string? name, JwtOptions options) =>
            options.Problem() is { } problem ? ValidateOptionsResult.Fail(problem) : ValidateOptionsResult.Success;
    }

    private sealed class DatabaseOptionsValidator : IValidateOptions<DatabaseOptions>
    {
        public ValidateOptionsResult Validate(string? name, DatabaseOptions options) =>
            options.Problem() is { } problem ? ValidateOptionsResult.Fail(problem) : ValidateOptionsResult.Success;
    }
}
