using System.Data;
using System.Runtime.CompilerServices;
using Dapper;
using Microsoft.Extensions.Logging;
using Npgsql;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;

namespace Tickets.Data;

/// <summary>
/// Runs units of work as whole transactions under one resilience pipeline: a transaction is retried only when
/// PostgreSQL is known to have rolled it back (serialization failure, deadlock, a connection lost before COMMIT
/// was sent). A failure during COMMIT is never retried — its outcome is unknown — and surfaces as
/// <see cref="DatabaseUnavailableException"/>, as does anything still failing after the retries.
/// </summary>
public sealed class Database
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly ResiliencePipeline _pipeline;
    private readonly ILogger<Database> _logger;

    public Database(NpgsqlDataSource dataSource, ILogger<Database> logger, DatabaseResilienceOptions? options = null)
    {
        _dataSource = dataSource;
        _logger = logger;
        _pipeline = BuildPipeline(options ?? new DatabaseResilienceOptions(), logger);
    }

    public NpgsqlDataSource DataSource => _dataSource;

    /// <summary>How long statements prepared on a connection live there (see <see cref="Data.PreparedStatements"/>).</summary>
    public PreparedStatements PreparedStatements { get; init; } = PreparedStatements.Kept;

    /// <summary>A transaction, on a connection of the pool or of <paramref name="lane"/>.</summary>
    public Task<T> InTransactionAsync<T>(
        Func<NpgsqlConnection, NpgsqlTransaction, CancellationToken, Task<T>> work,
        CancellationToken cancellationToken,
        IsolationLevel isolation = IsolationLevel.ReadCommitted,
        ConnectionLane? lane = null) =>
        RunAsync(async ct =>
        {
            await using var lease = await LeaseAsync(lane, ct);
            var connection = lease.Connection;
            await using var transaction = await connection.BeginTransactionAsync(isolation, ct);
            T result;
            try
            {
                result = await work(connection, transaction, ct);
            }
            catch when (PreparedStatements == PreparedStatements.PerTransaction)
            {
                await UnprepareAfterFailureAsync(connection);
                throw;
            }
            await UnprepareAsync(connection, ct);
            try
            {
                await transaction.CommitAsync(ct);
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or IOException)
            {
                throw new CommitOutcomeUnknownException(ex);
            }
            return result;
        }, cancellationToken);

    /// <summary>
    /// A write without an explicit transaction: one batch of statements, or a single autocommit statement (and
    /// reads after it). PostgreSQL runs a batch as one implicit transaction and commits it with the answer, in a
    /// single round trip. An error PostgreSQL reports has rolled the batch back (retried like any transaction when
    /// safe); a connection that fails after the write was sent leaves its outcome unknown, like a failed COMMIT,
    /// and is never retried: a retry could apply it twice (a second event, with the new id the retry makes).
    /// </summary>
    public Task<T> InOneRoundTripAsync<T>(
        Func<NpgsqlConnection, CancellationToken, Task<T>> work, CancellationToken cancellationToken, ConnectionLane? lane = null) =>
        RunAsync(async ct =>
        {
            await using var lease = await LeaseAsync(lane, ct);
            if (PreparedStatements == PreparedStatements.PerTransaction)
            {
                return await InExplicitTransactionAsync(lease.Connection, work, ct);
            }
            try
            {
                return await work(lease.Connection, ct);
            }
            catch (Exception ex) when (ex is TimeoutException or IOException || ex is NpgsqlException and not PostgresException)
            {
                throw new CommitOutcomeUnknownException(ex);
            }
        }, cancellationToken);

    /// <summary>
    /// <see cref="InOneRoundTripAsync"/> behind a pooler that hands each transaction its own server connection:
    /// a statement prepared in one round trip and run in the next must find the same server connection, so the
    /// unit of work runs in an explicit transaction (PgBouncer keeps one server connection for it), its prepared
    /// statements are closed before COMMIT, and COMMIT is one more round trip. The outcomes are the same: an
    /// error PostgreSQL reports has rolled everything back; a connection lost after the work was sent (COMMIT
    /// included) leaves it unknown.
    /// </summary>
    private async Task<T> InExplicitTransactionAsync<T>(NpgsqlConnection connection, Func<NpgsqlConnection, CancellationToken, Task<T>> work, CancellationToken ct)
    {
        await using var transaction = await connection.BeginTransactionAsync(ct);
        T result;
        try
        {
            result = await work(connection, ct);
            await UnprepareAsync(connection, ct);
        }
        catch (Exception ex) when (ex is TimeoutException or IOException || ex is NpgsqlException and not PostgresException)
        {
            throw new CommitOutcomeUnknownException(ex);
        }
        catch
        {
            await UnprepareAfterFailureAsync(connection);
            throw;
        }
        try
        {
            await transaction.CommitAsync(ct);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or IOException)
        {
            throw new CommitOutcomeUnknownException(ex);
        }
        return result;
    }

    /// <summary>
    /// With <see cref="PreparedStatements.PerTransaction"/>: closes what the unit of work prepared, while its
    /// transaction still holds the server connection. Npgsql has no asynchronous form of it: one more round trip,
    /// in this mode only.
    /// </summary>
    private ValueTask UnprepareAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        if (PreparedStatements == PreparedStatements.PerTransaction)
        {
            ct.ThrowIfCancellationRequested();
            connection.UnprepareAll();
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// After a failed unit of work: a statement left prepared on the pooler's server connection would collide with
    /// the next client's statement of the same name there ("prepared statement _p1 already exists"). In the
    /// aborted transaction nothing but a rollback runs, and after it the pooler may hand the server connection to
    /// someone else; so the rollback and the deallocation go in one round trip (the pooler switches server
    /// connections only between round trips), then Npgsql forgets its statements too. Where even that fails, the
    /// connection is not given back to the pool.
    /// </summary>
    private static async Task UnprepareAfterFailureAsync(NpgsqlConnection connection)
    {
        if (connection.FullState != ConnectionState.Open)
        {
            return;
        }
        try
        {
            await using (var end = new NpgsqlCommand("rollback; deallocate all", connection))
            {
                await end.ExecuteNonQueryAsync(CancellationToken.None);
            }
            // Npgsql has no asynchronous form of it; a round trip on an idle connection, after a failure only.
            connection.UnprepareAll();
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or IOException)
        {
            // Closing the physical connection ends the server session with it; PgBouncer drops its server connection.
            NpgsqlConnection.ClearPool(connection);
        }
    }

    /// <summary>
    /// Reads, and writes that give the same result when applied twice, retried under the same rules. Other writes
    /// go through <see cref="InOneRoundTripAsync"/> or <see cref="InTransactionAsync"/>, which never retry a write
    /// once sent.
    /// </summary>
    public Task<T> WithConnectionAsync<T>(Func<NpgsqlConnection, CancellationToken, Task<T>> work, CancellationToken cancellationToken) =>
        RunAsync(async ct =>
        {
            await using var connection = await _dataSource.OpenConnectionAsync(ct);
            return await work(connection, ct);
        }, cancellationToken);

    private async ValueTask<Lease> LeaseAsync(ConnectionLane? lane, CancellationToken ct) =>
        lane is null ? new Lease(await _dataSource.OpenConnectionAsync(ct), Owned: true) : new Lease(await lane.OpenAsync(ct), Owned: false);

    /// <summary>A connection for one unit of work: back to the pool at its end, unless a lane keeps it.</summary>
    private readonly record struct Lease(NpgsqlConnection Connection, bool Owned) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Owned ? Connection.DisposeAsync() : ValueTask.CompletedTask;
    }

    private async Task<T> RunAsync<T>(Func<CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        try
        {
            return await _pipeline.ExecuteAsync(static async (state, ct) => await state(ct), work, cancellationToken);
        }
        catch (CommitOutcomeUnknownException ex)
        {
            _logger.LogError(ex.InnerException, "Connection failed while committing; the transaction's outcome is unknown");
            throw new DatabaseUnavailableException("The database connection failed during commit.", ex.InnerException);
        }
        catch (BrokenCircuitException ex)
        {
            throw new DatabaseUnavailableException("The database is unavailable (circuit open).", ex);
        }
        catch (Exception ex) when ((IsUnavailable(ex) || IsSafeToRetry(ex)) && !cancellationToken.IsCancellationRequested)
        {
            throw new DatabaseUnavailableException("The database is unavailable.", ex);
        }
    }

    private static ResiliencePipeline BuildPipeline(DatabaseResilienceOptions options, ILogger logger)
    {
        var builder = new ResiliencePipelineBuilder();
        builder.AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<Exception>(IsSafeToRetry),
            MaxRetryAttempts = options.MaxRetryAttempts,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = options.RetryBaseDelay,
            OnRetry = args =>
            {
                logger.LogWarning(args.Outcome.Exception, "Retrying database transaction, attempt {Attempt}", args.AttemptNumber + 1);
                return ValueTask.CompletedTask;
            },
        });
        // Fail fast while the database is down instead of making every request wait for a connect timeout.
        builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<Exception>(IsUnavailable),
            FailureRatio = 0.5,
            MinimumThroughput = options.CircuitMinimumThroughput,
            SamplingDuration = TimeSpan.FromSeconds(5),
            BreakDuration = options.CircuitBreakDuration,
            OnOpened = args =>
            {
                logger.LogError("Database circuit opened for {BreakDuration}", args.BreakDuration);
                return ValueTask.CompletedTask;
            },
            OnClosed = _ =>
            {
                logger.LogInformation("Database circuit closed");
                return ValueTask.CompletedTask;
            },
        });
        return builder.Build();
    }

    /// <summary>PostgreSQL rolled the transaction back, or it never reached COMMIT.</summary>
    internal static bool IsSafeToRetry(Exception ex) => ex switch
    {
        CommitOutcomeUnknownException => false,
        PostgresException pg => pg.SqlState is PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected
            || pg.IsTransient,
        NpgsqlException npgsql => npgsql.IsTransient,
        _ => false,
    };

    /// <summary>The server is unreachable, shutting down or out of connections: not the transaction's fault.</summary>
    internal static bool IsUnavailable(Exception ex) => ex switch
    {
        CommitOutcomeUnknownException => true,
        PostgresException pg => pg.SqlState.StartsWith("08", StringComparison.Ordinal)
            || pg.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown
                or PostgresErrorCodes.CannotConnectNow or PostgresErrorCodes.TooManyConnections,
        NpgsqlException npgsql => npgsql.IsTransient,
        TimeoutException => true,
        _ => false,
    };

    private sealed class CommitOutcomeUnknownException(Exception inner) : Exception("Commit outcome unknown.", inner);
}

/// <summary>
/// One connection kept for units of work that run one after another on one loop — a batch queue draining its
/// requests — so that consecutive batches reach the same PostgreSQL backend. The pool hands idle connections out
/// first in, first out: once a burst of other work had opened many, every batch went to the next backend in
/// turn, and hot-event holds ran up to a third slower (docs/benchmarks.md). One unit of work at a time; a connection that
/// is not idle and open when the next unit starts (broken, or left mid-command by a failure) is replaced;
/// disposing the lane returns its connection to the pool.
/// </summary>
public sealed class ConnectionLane(Database database) : IAsyncDisposable
{
    private NpgsqlConnection? _connection;

    internal async ValueTask<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        if (_connection is { FullState: ConnectionState.Open })
        {
            return _connection;
        }
        await DisposeAsync();
        _connection = await database.DataSource.OpenConnectionAsync(cancellationToken);
        return _connection;
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is { } connection)
        {
            _connection = null;
            await connection.DisposeAsync();
        }
    }
}

/// <summary>
/// Where statements the engine prepares (its whole-batch statements, <c>NpgsqlBatch.PrepareAsync</c>) may live.
/// Setting <c>Tickets:PreparedStatements</c>; Npgsql's automatic preparation is off unless the connection string
/// turns it on (<c>Max Auto Prepare</c>), and must stay off behind a pooler without prepared-statement support.
/// </summary>
public enum PreparedStatements
{
    /// <summary>
    /// On the connection, for as long as it lives (prepared once, planned once): PostgreSQL directly, or a
    /// PgBouncer that tracks protocol-level prepared statements (1.21+ with <c>max_prepared_statements</c> &gt; 0,
    /// as Azure's built-in one). The default.
    /// </summary>
    Kept,

    /// <summary>
    /// Only within one transaction, closed before it commits: behind a pooler in transaction mode that does not
    /// track prepared statements (PgBouncer before 1.21), where the next transaction may run on another server
    /// connection. Costs a round trip to prepare, one to close and one to commit per unit of work.
    /// </summary>
    PerTransaction,
}

public sealed record DatabaseResilienceOptions
{
    public int MaxRetryAttempts { get; init; } = 3;
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromMilliseconds(40);
    public int CircuitMinimumThroughput { get; init; } = 20;
    public TimeSpan CircuitBreakDuration { get; init; } = TimeSpan.FromSeconds(2);
}

internal static class DapperSetup
{
    // Columns are snake_case, properties PascalCase. Dapper's switch is process-wide; setting it from a module
    // initializer guarantees it is on before any query of this assembly runs, whichever host loads it.
#pragma warning disable CA2255 // The engine owns its SQL mapping; no host should have to remember this switch.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Initialize()
    {
        DefaultTypeMap.MatchNamesWithUnderscores = true;
        // Dapper tags DateTime parameters as DbType.DateTime, which Npgsql maps to "timestamp without time zone"
        // and then refuses UTC values for. Every time column here is timestamptz.
        SqlMapper.AddTypeMap(typeof(DateTime), DbType.DateTimeOffset);
        SqlMapper.AddTypeMap(typeof(DateTime?), DbType.DateTimeOffset);
    }
}
