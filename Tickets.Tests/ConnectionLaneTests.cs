using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Tickets.Data;

namespace Tickets.Tests;

/// <summary>
/// A batch queue runs its batches on connections of its own (<see cref="ConnectionLane"/>): the pool hands out its
/// idle connections in turn, and a hot event's batches that went to a different PostgreSQL backend each time ran
/// 15–20% slower (docs/benchmarks.md).
/// </summary>
public sealed class ConnectionLaneTests(PostgresFixture db) : EngineTestBase(db)
{
    private static readonly CancellationToken None = CancellationToken.None;

    /// <summary>A queue whose batches answer each request with the backend that ran the batch.</summary>
    private static BatchQueue<int, int> BackendQueue(Database database, BatchOptions options) =>
        new((requests, lane) => database.InOneRoundTripAsync(async (connection, ct) =>
            {
                // Not Dapper: it would quietly reopen a closed connection.
                await using var command = new NpgsqlCommand("select pg_backend_pid()", connection);
                var pid = (int)(await command.ExecuteScalarAsync(ct))!;
                return requests.Select(_ => pid).ToArray();
            }, None, lane),
            () => new ConnectionLane(database),
            _ => throw new InvalidOperationException("No batch fails here."),
            overloaded: -1, options, maxConcurrentBatches: 1, extraBatchMinimum: 0, NullLogger.Instance);

    [Fact]
    public async Task Batches_one_after_another_run_on_one_backend_while_the_pool_has_many_idle_connections()
    {
        // A burst of other work leaves twenty idle connections in the pool.
        var burst = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Db.DataSource.OpenConnectionAsync().AsTask()));
        var burstBackends = burst.Select(c => c.ProcessID).ToHashSet();
        foreach (var connection in burst)
        {
            await connection.DisposeAsync();
        }
        var queue = BackendQueue(Db.Database, new BatchOptions());

        // Each request is alone in its queue: every one starts a drain of its own.
        var backends = new List<int>();
        for (var i = 0; i < 10; i++)
        {
            backends.Add(await queue.EnqueueAsync(i, None));
        }

        Assert.Single(backends.Distinct());
        Assert.Equal(20, burstBackends.Count);
    }

    [Fact]
    public async Task A_queue_gives_its_connection_back_to_the_pool_once_idle()
    {
        // A pool of one connection: while the queue keeps it, nobody else can have it.
        var connectionString = new NpgsqlConnectionStringBuilder(Db.ConnectionString) { MaxPoolSize = 1, Timeout = 1 }.ConnectionString;
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        var database = new Database(dataSource, NullLogger<Database>.Instance);
        var queue = BackendQueue(database, new BatchOptions { KeepConnectionIdle = TimeSpan.FromSeconds(4) });

        var backend = await queue.EnqueueAsync(1, None);
        await Assert.ThrowsAsync<NpgsqlException>(async () => await dataSource.OpenConnectionAsync());

        // Given back after its idle spell: the same backend, from the pool.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync();
                Assert.Equal(backend, connection.ProcessID);
                break;
            }
            catch (NpgsqlException) when (DateTime.UtcNow < deadline)
            {
            }
        }
    }

    [Fact]
    public async Task With_no_idle_time_the_connection_goes_back_as_soon_as_the_queue_is_empty()
    {
        var connectionString = new NpgsqlConnectionStringBuilder(Db.ConnectionString) { MaxPoolSize = 1, Timeout = 5 }.ConnectionString;
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        var database = new Database(dataSource, NullLogger<Database>.Instance);
        var queue = BackendQueue(database, new BatchOptions { KeepConnectionIdle = TimeSpan.Zero });

        var backend = await queue.EnqueueAsync(1, None);

        await using var connection = await dataSource.OpenConnectionAsync();
        Assert.Equal(backend, connection.ProcessID);
    }

    [Fact]
    public async Task A_lane_whose_backend_was_terminated_moves_to_a_new_connection()
    {
        var queue = BackendQueue(Db.Database, new BatchOptions { KeepConnectionIdle = TimeSpan.FromMinutes(1) });
        var first = await queue.EnqueueAsync(1, None);
        await using (var admin = await Db.DataSource.OpenConnectionAsync())
        {
            Assert.True(await admin.ExecuteScalarAsync<bool>("select pg_terminate_backend(@Pid, 5000)", new { Pid = first }));
        }

        var second = await queue.EnqueueAsync(2, None);
        var third = await queue.EnqueueAsync(3, None);

        Assert.NotEqual(first, second);
        Assert.Equal(second, third);
    }
}
