using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Tickets.Data;

namespace Tickets.Tests;

/// <summary>
/// <see cref="PreparedStatements.PerTransaction"/>, for PgBouncer before 1.21 in transaction mode: a statement left
/// prepared on a server connection would be missing for its client's next transaction elsewhere, or collide with
/// another client's statement of the same name there. Checked on one backend (a pool of one connection, straight
/// to PostgreSQL), whose <c>pg_prepared_statements</c> shows what a unit of work left behind.
/// </summary>
public sealed class PreparedStatementsTests(PostgresFixture db) : EngineTestBase(db)
{
    private static readonly CancellationToken None = CancellationToken.None;

    private NpgsqlDataSource OneConnection() =>
        NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(Db.DirectConnectionString) { MaxPoolSize = 1 }.ConnectionString);

    private static async Task<int> PreparedAsync(NpgsqlDataSource dataSource)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<int>("select count(*)::int from pg_prepared_statements");
    }

    /// <summary>A unit of work that prepares its statement, as the engine's whole-batch statements are, then runs it.</summary>
    private static async Task<int> PreparedQueryAsync(NpgsqlConnection connection, string sql, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.PrepareAsync(ct);
        return (int)(await command.ExecuteScalarAsync(ct))!;
    }

    [Theory]
    [InlineData(PreparedStatements.Kept, 1)]
    [InlineData(PreparedStatements.PerTransaction, 0)]
    public async Task Statements_a_unit_of_work_prepared_stay_on_the_connection_only_when_kept(PreparedStatements mode, int left)
    {
        await using var dataSource = OneConnection();
        var database = new Database(dataSource, NullLogger<Database>.Instance) { PreparedStatements = mode };

        Assert.Equal(42, await database.InOneRoundTripAsync((c, ct) => PreparedQueryAsync(c, "select 42", ct), None));
        Assert.Equal(7, await database.InTransactionAsync((c, _, ct) => PreparedQueryAsync(c, "select 7", ct), None));

        Assert.Equal(2 * left, await PreparedAsync(dataSource));
    }

    [Fact]
    public async Task A_failed_unit_of_work_leaves_nothing_prepared_and_its_writes_rolled_back()
    {
        await using var dataSource = OneConnection();
        var database = new Database(dataSource, NullLogger<Database>.Instance) { PreparedStatements = PreparedStatements.PerTransaction };
        var ev = await NewEventAsync(10);

        await Assert.ThrowsAsync<PostgresException>(() => database.InOneRoundTripAsync(async (c, ct) =>
        {
            await c.ExecuteAsync("update events set name = 'changed' where id = @Id", new { ev.Id });
            return await PreparedQueryAsync(c, "select 1 / (select count(*)::int from events where false)", ct);
        }, None));

        Assert.Equal(0, await PreparedAsync(dataSource));
        Assert.NotEqual("changed", (await Events.GetAsync(ev.Id, None))!.Name);
    }
}
