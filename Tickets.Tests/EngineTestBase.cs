using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
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

    /// <summary>
    /// The invariant, checked against the rows themselves: for every event the counters add up to capacity, none is
    /// negative, and held/confirmed equal the seats of HOLD/CONFIRMED reservations.
    /// </summary>
    protected async Task AssertInvariantAsync()
    {
        await using var connection = await Db.DataSource.OpenConnectionAsync();
        var broken = (await connection.QueryAsync<string>("""
            select e.id::text
            from events e
            left join lateral (
                select coalesce(sum(quantity) filter (where status = 'HOLD'), 0) as held,
                       coalesce(sum(quantity) filter (where status = 'CONFIRMED'), 0) as confirmed
                from reservations r where r.event_id = e.id
            ) r on true
            where e.available < 0 or e.held <> r.held or e.confirmed <> r.confirmed
               or e.available + e.held + e.confirmed <> e.capacity
            """)).ToList();
        Assert.Empty(broken);
    }

    protected async Task<Event> ReloadAsync(Guid eventId) => (await Events.GetAsync(eventId, CancellationToken.None))!;
}
