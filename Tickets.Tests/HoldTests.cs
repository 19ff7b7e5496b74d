using Dapper;
using Npgsql;
using Tickets.Data;

namespace Tickets.Tests;

public sealed class HoldTests(PostgresFixture db) : EngineTestBase(db)
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Hold_takes_seats_from_available_into_held_with_the_events_hold_duration()
    {
        var user = await NewUserAsync();
        var ev = await NewEventAsync(10);

        var result = await Engine.HoldAsync(new HoldRequest(user, ev.Id, 3), None);

        Assert.Equal(HoldOutcome.Held, result.Outcome);
        var r = result.Reservation!;
        Assert.Equal(ReservationStatus.Hold, r.Status);
        Assert.Equal(3, r.Quantity);
        Assert.Equal(TimeSpan.FromSeconds(ev.HoldSeconds), r.ExpiresAt - r.CreatedAt);
        var after = await ReloadAsync(ev.Id);
        Assert.Equal((7, 3, 0), (after.Available, after.Held, after.Confirmed));
        Assert.Equivalent(r, await Engine.GetAsync(r.Id, user, None));
        await AssertInvariantAsync();
    }

    [Fact]
    public async Task Hold_on_unknown_event_is_not_found()
    {
        var result = await Engine.HoldAsync(new HoldRequest(await NewUserAsync(), Guid.NewGuid(), 1), None);
        Assert.Equal(HoldOutcome.EventNotFound, result.Outcome);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(Limits.MaxQuantityPerHold + 1)]
    [InlineData(int.MaxValue)]
    public async Task Hold_with_quantity_out_of_range_is_refused_and_changes_nothing(int quantity)
    {
        var ev = await NewEventAsync(1000);
        var result = await Engine.HoldAsync(new HoldRequest(await NewUserAsync(), ev.Id, quantity), None);
        Assert.Equal(HoldOutcome.InvalidQuantity, result.Outcome);
        Assert.Equal(1000, (await ReloadAsync(ev.Id)).Available);
    }

    [Fact]
    public async Task Hold_before_sales_open_and_after_they_close_is_refused()
    {
        var user = await NewUserAsync();
        var notYet = await NewEventAsync(10, opens: DateTime.UtcNow.AddHours(1));
        var over = await NewEventAsync(10, opens: DateTime.UtcNow.AddHours(-2), closes: DateTime.UtcNow.AddHours(-1));
        var open = await NewEventAsync(10, opens: DateTime.UtcNow.AddHours(-1), closes: DateTime.UtcNow.AddHours(1));

        Assert.Equal(HoldOutcome.SalesNotOpen, (await Engine.HoldAsync(new HoldRequest(user, notYet.Id, 1), None)).Outcome);
        Assert.Equal(HoldOutcome.SalesClosed, (await Engine.HoldAsync(new HoldRequest(user, over.Id, 1), None)).Outcome);
        Assert.Equal(HoldOutcome.Held, (await Engine.HoldAsync(new HoldRequest(user, open.Id, 1), None)).Outcome);
        await AssertInvariantAsync();
    }

    [Fact]
    public async Task Per_user_limit_counts_live_holds_and_confirmed_tickets_but_not_ended_ones()
    {
        var user = await NewUserAsync();
        var other = await NewUserAsync();
        var ev = await NewEventAsync(100, maxPerUser: 4);

        var confirmed = (await Engine.HoldAsync(new HoldRequest(user, ev.Id, 2), None)).Reservation!;
        await Engine.ConfirmAsync(user, confirmed.Id, None);
        var held = (await Engine.HoldAsync(new HoldRequest(user, ev.Id, 1), None)).Reservation!;

        Assert.Equal(HoldOutcome.LimitExceeded, (await Engine.HoldAsync(new HoldRequest(user, ev.Id, 2), None)).Outcome);
        Assert.Equal(HoldOutcome.Held, (await Engine.HoldAsync(new HoldRequest(other, ev.Id, 4), None)).Outcome);

        await Engine.ReleaseAsync(user, held.Id, None);
        Assert.Equal(HoldOutcome.Held, (await Engine.HoldAsync(new HoldRequest(user, ev.Id, 2), None)).Outcome);
        Assert.Equal(HoldOutcome.LimitExceeded, (await Engine.HoldAsync(new HoldRequest(user, ev.Id, 1), None)).Outcome);
        await AssertInvariantAsync();
    }

    [Fact]
    public async Task Hold_larger_than_what_is_left_is_sold_out_and_changes_nothing()
    {
        var ev = await NewEventAsync(5);
        Assert.Equal(HoldOutcome.Held, (await Engine.HoldAsync(new HoldRequest(await NewUserAsync(), ev.Id, 4), None)).Outcome);

        var result = await Engine.HoldAsync(new HoldRequest(await NewUserAsync(), ev.Id, 2), None);

        Assert.Equal(HoldOutcome.SoldOut, result.Outcome);
        Assert.Equal((1, 4), ((await ReloadAsync(ev.Id)).Available, (await ReloadAsync(ev.Id)).Held));
        await AssertInvariantAsync();
    }

    [Fact]
    public async Task Hold_short_of_seats_first_releases_the_events_expired_holds()
    {
        var ev = await NewEventAsync(5);
        var other = await NewEventAsync(5);
        var early = (await Engine.HoldAsync(new HoldRequest(await NewUserAsync(), ev.Id, 5), None)).Reservation!;
        var elsewhere = (await Engine.HoldAsync(new HoldRequest(await NewUserAsync(), other.Id, 5), None)).Reservation!;
        await ExpireAsync(early.Id);
        await ExpireAsync(elsewhere.Id);

        var result = await Engine.HoldAsync(new HoldRequest(await NewUserAsync(), ev.Id, 3), None);

        Assert.Equal(HoldOutcome.Held, result.Outcome);
        var ended = (await Engine.GetAsync(early.Id, null, None))!;
        Assert.Equal(ReservationStatus.Expired, ended.Status);
        Assert.NotNull(ended.EndedAt);
        Assert.Equal((2, 3), ((await ReloadAsync(ev.Id)).Available, (await ReloadAsync(ev.Id)).Held));
        // Another event's expired hold is the sweeper's business, not this hold's.
        Assert.Equal(ReservationStatus.Hold, (await Engine.GetAsync(elsewhere.Id, null, None))!.Status);
        await AssertInvariantAsync();
    }

    [Fact]
    public async Task Database_refuses_counters_that_break_the_invariant()
    {
        var ev = await NewEventAsync(5);
        await using var connection = await Db.DataSource.OpenConnectionAsync();

        var sum = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteAsync("update events set held = held + 1 where id = @Id", new { ev.Id }));
        var negative = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteAsync(
            "update events set available = -1, held = held + available + 1 where id = @Id", new { ev.Id }));

        Assert.Equal("events_counters_sum", sum.ConstraintName);
        Assert.Equal("events_counters_non_negative", negative.ConstraintName);
    }
}
