using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Tickets.Api;

namespace Tickets.Tests;

public sealed class ColdStartWarmUpTests(PostgresFixture db) : IClassFixture<PostgresFixture>
{
    private static ServiceProvider Services(string connectionString) => new ServiceCollection()
        .AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance)
        .AddSingleton(typeof(ILogger<>), typeof(NullLogger<>))
        .AddTickets(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Tickets"] = connectionString,
            ["Jwt:SigningKey"] = ApiHost.SigningKey,
        }).Build())
        .BuildServiceProvider();

    [Fact]
    public async Task Starting_the_app_opens_the_first_database_connection_before_any_request()
    {
        var name = $"warm-up-{Guid.NewGuid():N}";
        await using var services = Services(new NpgsqlConnectionStringBuilder(db.ConnectionString) { ApplicationName = name }.ConnectionString);
        var warmUp = (ColdStartWarmUp)services.GetServices<IHostedService>().Single(s => s is ColdStartWarmUp);
        Assert.Equal(0, await ConnectionsNamedAsync(name));

        await warmUp.StartAsync(CancellationToken.None);
        await warmUp.ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(30));

        // Kept open in the pool for the first request.
        Assert.Equal(1, await ConnectionsNamedAsync(name));
    }

    private async Task<long> ConnectionsNamedAsync(string name)
    {
        await using var command = db.DataSource.CreateCommand("select count(*) from pg_stat_activity where application_name = @name");
        command.Parameters.AddWithValue("name", name);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task An_unreachable_database_at_start_up_is_logged_not_thrown()
    {
        await using var services = Services("Host=127.0.0.1;Port=9;Username=postgres;Database=none");
        var warmUp = (ColdStartWarmUp)services.GetServices<IHostedService>().Single(s => s is ColdStartWarmUp);

        await warmUp.StartAsync(CancellationToken.None);
        await warmUp.ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(warmUp.ExecuteTask.IsCompletedSuccessfully);
    }
}
