using Dapper;
using Npgsql;
using Tickets.Data;

namespace Tickets.Tests;

/// <summary>
/// The invariant check every concurrency and fault test relies on must itself catch a broken event: counters
/// that disagree with the reservation rows (the CHECK constraints already refuse negative counters and sums
/// other than the capacity, so a mismatch with the rows is what is left to find).
/// </summary>
public sealed class InvariantTests(PostgresFixture db) : EngineTestBase(db)
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Counters_that_disagree_with_the_reservations_are_found_and_healthy_events_are_not()
    {
        var healthy = await NewEventAsync(10);
        var heldWrong = await NewEventAsync(10);
        var confirmedWrong = await NewEventAsync(10);
        var heldWithoutRows = await NewEventAsync(10);
        var user = await NewUserAsync();
        foreach (var ev in new[] { healthy, heldWrong, confirmedWrong })
        {
            var held = await Engine.HoldAsync(new HoldRequest(user, ev.Id, 2), None);
            Assert.Equal(HoldOutcome.Held, held.Outcome);
            Assert.Equal(ChangeOutcome.Changed, (await Engine.ConfirmAsync(user, held.Reservation!.Id, None)).Outcome);
            Assert.Equal(HoldOutcome.Held, (await Engine.HoldAsync(new HoldRequest(user, ev.Id, 1), None)).Outcome);
        }
        Assert.Empty(await Invariant.BrokenEventsAsync(Db.DataSource, None));

        await using var connection = await Db.DataSource.OpenConnectionAsync();
        // A hold's seats changed behind the counters' back.
        await connection.ExecuteAsync("update reservations set quantity = 3 where event_id = @Id and status = 'HOLD'", new { Id = heldWrong.Id });
        // A confirmed ticket ended without its seat going back.
        await connection.ExecuteAsync(
            "update reservations set status = 'CANCELLED', ended_at = now() where event_id = @Id and status = 'CONFIRMED'", new { Id = confirmedWrong.Id });
        // Seats counted as held on an event with no reservations at all: the event's counters alone are refused at
        // commit (they would differ from its types'), the event's and its type's together only the check finds.
        var alone = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteAsync(
            "update events set available = available - 1, held = held + 1 where id = @Id", new { Id = heldWithoutRows.Id }));
        Assert.Equal("events_ticket_type_sums", alone.ConstraintName);
        await connection.ExecuteAsync("""
            update events set available = available - 1, held = held + 1 where id = @Id;
            update ticket_types set available = available - 1, held = held + 1 where event_id = @Id;
            """, new { Id = heldWithoutRows.Id });

        var broken = await Invariant.BrokenEventsAsync(Db.DataSource, None);

        Assert.Equal(new[] { heldWrong.Id, confirmedWrong.Id, heldWithoutRows.Id }.Order(), broken.Order());
    }
}
