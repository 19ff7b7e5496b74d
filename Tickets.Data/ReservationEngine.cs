using System.Diagnostics;
using Dapper;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Tickets.Data;

/// <summary>
/// Hold, confirm, release, cancel and the expiry sweep; each path in a file of its own (<c>ReservationEngine.*.cs</c>).
/// Lock order, everywhere: the event row first (<c>FOR NO KEY UPDATE</c>), then its ticket types and
/// reservations. Every writer of a reservation or of a type's counters holds its event's row lock, so under that
/// lock an event's types and reservations are stable and no two writers can deadlock. <c>NO KEY UPDATE</c> rather than <c>UPDATE</c>: we never change the key, and the weaker
/// lock does not conflict with the <c>KEY SHARE</c> locks that foreign-key checks take (a new ticket type's
/// check of its event; the rows a hold inserts have their references checked per statement instead, migration 007).
/// All expiry decisions use the database clock, read once per transaction right after the lock.
/// </summary>
public sealed partial class ReservationEngine(Database database, ILogger<ReservationEngine> logger)
{
    public int SweepBatchSize { get; init; } = 1000;

    /// <summary>Most live holds one user may have at once, across all events; 0 turns the cap off.</summary>
    public int MaxActiveHoldsPerUser { get; init; }

    /// <summary>Most seats one user may hold at once (live holds), across all events; 0 turns the cap off.</summary>
    public int MaxHeldSeatsPerUser { get; init; }

    /// <summary>
    /// Share of wall time the sweeper may keep the database busy while working through a backlog. A tenth: with
    /// a batch reading only what it ends, that still ends 3,000–3,500 holds/s on a saturated 2-core machine, and
    /// concurrent holds kept 0.87–0.98 of their rate (0.68–0.84 with a fifth).
    /// </summary>
    public double SweepDutyCycle { get; init; } = 0.1;

    /// <summary>A connection for batches that run one after another (a batch queue's drain).</summary>
    internal ConnectionLane NewLane() => new(database);

    /// <summary>
    /// A batch first tried whole, then decided request by request: without idempotency keys the whole try is
    /// one round trip of its own; with keys it runs inside the transaction that, if the batch is not applied
    /// whole, goes on to decide it request by request. The same key twice in one batch (the second a replay of
    /// the first) is decided request by request straight away.
    /// </summary>
    private async Task<(TResult[] Results, bool Whole)> WholeOrEachAsync<TResult>(
        bool eligible, bool keyed, bool keysDistinct,
        Func<CancellationToken, Task<TResult[]?>> wholeInOneRoundTrip,
        Func<NpgsqlConnection, NpgsqlTransaction, CancellationToken, Task<TResult[]?>> wholeInTransaction,
        Func<NpgsqlConnection, NpgsqlTransaction, CancellationToken, Task<TResult[]>> each,
        ConnectionLane? lane,
        CancellationToken cancellationToken)
    {
        if (eligible && !keyed && await wholeInOneRoundTrip(cancellationToken) is { } all)
        {
            return (all, true);
        }
        if (eligible && keyed && keysDistinct)
        {
            return await database.InTransactionAsync(async (connection, transaction, ct) =>
                await wholeInTransaction(connection, transaction, ct) is { } applied
                    ? (applied, true)
                    : (await each(connection, transaction, ct), false), cancellationToken, lane: lane);
        }
        return (await database.InTransactionAsync(each, cancellationToken, lane: lane), false);
    }

    /// <summary>
    /// A batch of whole-batch statements, prepared on this connection (the pool keeps it prepared) and run with
    /// one generic plan: planning them for every batch costs more than running them. That plan is made with
    /// sequential scans off, so that a plan made while a table was still small — a fresh database, the first
    /// seconds of an on-sale — cannot go on scanning the whole table once it has grown (seen: every hold batch
    /// reading all of <c>idempotency_keys</c>). And without JIT compilation: JIT code is not cached with the plan,
    /// and once statistics made a plan's estimated cost pass <c>jit_above_cost</c> — after the sweeper had ended
    /// 100,000 holds of one user, the live-holds cap's subquery was estimated at 12,000 rows per user — every batch
    /// compiled about a hundred functions first: 40–70 ms a batch, holds down from 17,000/s to 900/s. The
    /// settings are reset at the end of the batch; a batch that fails is rolled back, settings included.
    /// </summary>
    /// <param name="savepoint">A savepoint the batch sets first (in the caller's transaction), before its settings,
    /// so that rolling back to it also undoes them; null for none.</param>
    private static async Task<NpgsqlBatch> PreparedBatchAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, string? savepoint, CancellationToken ct, params NpgsqlBatchCommand[] statements)
    {
        var batch = new NpgsqlBatch(connection, transaction);
        if (savepoint is not null)
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand($"savepoint {savepoint}"));
        }
        batch.BatchCommands.Add(new NpgsqlBatchCommand("set plan_cache_mode = force_generic_plan"));
        batch.BatchCommands.Add(new NpgsqlBatchCommand("set enable_seqscan = off"));
        batch.BatchCommands.Add(new NpgsqlBatchCommand("set jit = off"));
        foreach (var statement in statements)
        {
            batch.BatchCommands.Add(statement);
        }
        batch.BatchCommands.Add(new NpgsqlBatchCommand("reset jit"));
        batch.BatchCommands.Add(new NpgsqlBatchCommand("reset enable_seqscan"));
        batch.BatchCommands.Add(new NpgsqlBatchCommand("reset plan_cache_mode"));
        try
        {
            await batch.PrepareAsync(ct);
            return batch;
        }
        catch
        {
            await batch.DisposeAsync();
            throw;
        }
    }

    /// <summary>A row for a user id that is not in <c>users</c> (reservations or idempotency keys).</summary>
    private static bool IsUnknownUser(PostgresException ex) =>
        ex.SqlState == PostgresErrorCodes.ForeignKeyViolation && ex.ConstraintName?.EndsWith("_user_id_fkey", StringComparison.Ordinal) == true;
}
