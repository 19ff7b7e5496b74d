using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Tickets.Data;

namespace Tickets.Tests;

/// <summary>Engine tests: real PostgreSQL, a schema per test class, helpers to make users and events.</summary>
public abstract class EngineTestBase(PostgresFixture db) : IClassFixture<PostgresFixture>
{
    protected PostgresFixture Db { get; } = db;
    protected EventStore Events => new(Db.Database);
    protected UserStore Users => new(Db.Database);
    protected ReservationEngine Engine => new(Db.Database, NullLogger<ReservationEngine>.Instance);

    protected async Task<Guid> NewUserAsync()
    {
        var user = await Users.CreateAsync($"{Guid.NewGuid():N}@example.test", "hash", Roles.User, CancellationToken.None);
        return user!.Id;
    }

    protected Task<Event> NewEventAsync(int capacity, int? maxPerUser = null, DateTime? opens = null, DateTime? closes = null) =>
        Events.CreateAsync(new NewEvent($"Event {Guid.NewGuid():N}", capacity, opens, closes, maxPerUser), CancellationToken.None);

    /// <summary>Moves a hold's expiry into the past, as if its minutes had run out.</summary>
    protected async Task ExpireAsync(Guid reservationId)
    {
        await using var connection = await Db.DataSource.OpenConnectionAsync();
        await connection.ExecuteAsync("update reservations set expires_at = now() - interval '1 second' where id = @Id", new { Id = reservationId });
    }

    /// <summary>The invariant, checked against the rows themselves (see <see cref="Invariant"/>).</summary>
    protected async Task AssertInvariantAsync() =>
        Assert.Empty(await Invariant.BrokenEventsAsync(Db.DataSource, CancellationToken.None));

    /// <summary>
    /// Holds the events' row locks in a transaction of its own, as another instance's batch would, so requests
    /// pile up behind it until <see cref="UnblockAsync"/>.
    /// </summary>
    protected async Task<NpgsqlTransaction> BlockEventsAsync(params Guid[] eventIds)
    {
        var connection = await Db.DataSource.OpenConnectionAsync();
        var transaction = await connection.BeginTransactionAsync();
        await connection.ExecuteAsync("select 1 from events where id = any(@Ids) for no key update", new { Ids = eventIds }, transaction);
        return transaction;
    }

    protected static async Task UnblockAsync(NpgsqlTransaction transaction)
    {
        var connection = transaction.Connection!;
        await transaction.RollbackAsync();
        await connection.DisposeAsync();
    }

    protected async Task<Event> ReloadAsync(Guid eventId) => (await Events.GetAsync(eventId, CancellationToken.None))!;
}
