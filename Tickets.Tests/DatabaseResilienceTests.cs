using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Tickets.Data;

namespace Tickets.Tests;

public sealed class DatabaseResilienceTests
{
    [Fact]
    public async Task Unreachable_database_surfaces_as_unavailable_quickly_not_as_a_hang()
    {
        // Nothing listens on port 1.
        await using var source = NpgsqlDataSource.Create("Host=127.0.0.1;Port=1;Username=x;Timeout=2");
        var database = new Database(source, NullLogger<Database>.Instance);
        var events = new EventStore(database);
        var watch = Stopwatch.StartNew();

        await Assert.ThrowsAsync<DatabaseUnavailableException>(() => events.GetAsync(Guid.NewGuid(), CancellationToken.None));

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"took {watch.Elapsed}");
    }

    [Theory]
    [InlineData(PostgresErrorCodes.SerializationFailure, true)]
    [InlineData(PostgresErrorCodes.DeadlockDetected, true)]
    [InlineData(PostgresErrorCodes.UniqueViolation, false)]
    [InlineData(PostgresErrorCodes.CheckViolation, false)]
    public void Only_rolled_back_transactions_are_retried(string sqlState, bool retried)
    {
        var ex = new PostgresException("message", "ERROR", "ERROR", sqlState);
        Assert.Equal(retried, Database.IsSafeToRetry(ex));
    }

    [Fact]
    public async Task Failed_connection_attempts_are_retried_then_reported_unavailable_with_the_cause()
    {
        await using var source = NpgsqlDataSource.Create("Host=127.0.0.1;Port=1;Username=x;Timeout=1");
        var database = new Database(source, NullLogger<Database>.Instance, new DatabaseResilienceOptions { MaxRetryAttempts = 2, RetryBaseDelay = TimeSpan.FromMilliseconds(1) });
        var attempts = 0;

        var ex = await Assert.ThrowsAsync<DatabaseUnavailableException>(() => database.WithConnectionAsync<int>(async (c, ct) =>
        {
            attempts++;
            await c.OpenAsync(ct);
            return 0;
        }, CancellationToken.None));

        Assert.IsAssignableFrom<NpgsqlException>(ex.InnerException);
    }
}
