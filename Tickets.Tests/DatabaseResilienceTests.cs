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

/// <summary>A write whose connection failed after it was sent may have committed: it is never run again.</summary>
public sealed class SentWriteRetryTests(PostgresFixture db) : IClassFixture<PostgresFixture>
{
    private Database Quick => new(db.DataSource, NullLogger<Database>.Instance,
        new DatabaseResilienceOptions { MaxRetryAttempts = 3, RetryBaseDelay = TimeSpan.FromMilliseconds(1), CircuitMinimumThroughput = 1000 });

    private async Task<long> EventsNamedAsync(string name)
    {
        await using var command = db.DataSource.CreateCommand("select count(*) from events where name = @name");
        command.Parameters.AddWithValue("name", name);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task A_write_whose_connection_fails_after_it_was_sent_is_reported_unavailable_not_run_again()
    {
        var name = $"Sent once {Guid.NewGuid():N}";
        var attempts = 0;

        await Assert.ThrowsAsync<DatabaseUnavailableException>(() => Quick.InOneRoundTripAsync<int>(async (connection, ct) =>
        {
            attempts++;
            await using var insert = new NpgsqlCommand("insert into events (id, name, capacity, available) values (gen_random_uuid(), @name, 1, 1)", connection);
            insert.Parameters.AddWithValue("name", name);
            await insert.ExecuteNonQueryAsync(ct);
            // The statement committed; its answer is lost with the connection, as Npgsql reports it (a transient
            // error, which a read would retry).
            throw new NpgsqlException("Exception while reading from stream", new IOException("Connection reset."));
        }, CancellationToken.None));

        Assert.Equal((1, 1L), (attempts, await EventsNamedAsync(name)));
    }

    [Fact]
    public async Task A_read_whose_connection_fails_is_retried()
    {
        var attempts = 0;

        var result = await Quick.WithConnectionAsync(async (connection, ct) =>
        {
            if (++attempts < 3)
            {
                throw new NpgsqlException("Exception while reading from stream", new IOException("Connection reset."));
            }
            await using var select = new NpgsqlCommand("select 42", connection);
            return (int)(await select.ExecuteScalarAsync(ct))!;
        }, CancellationToken.None);

        Assert.Equal((3, 42), (attempts, result));
    }
}
