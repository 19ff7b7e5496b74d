using Tickets.Data;

namespace Tickets.Tests;

public sealed class ReservationChangeTests(PostgresFixture db) : EngineTestBase(db)
{
    private static readonly CancellationToken None = CancellationToken.None;

    private async Task<(Guid User, Event Event, Reservation Hold)> HoldAsync(int quantity = 2)
    {
        var user = await NewUserAsync();
        var ev = await NewEventAsync(10);
        var hold = (await Engine.HoldAsync(new HoldRequest(user, ev.Id, quantity), None)).Reservation!;
        return (user, ev, hold);
    }

    [Fact]
    public async Task Confirm_moves_seats_from_held_to_confirmed()
    {
        var (user, ev, hold) = await HoldAsync();

        var result = await Engine.ConfirmAsync(user, hold.Id, None);

        Assert.Equal(ChangeOutcome.Changed, result.Outcome);
        Assert.Equal(ReservationStatus.Confirmed, result.Reservation!.Status);
        Assert.NotNull(result.Reservation.ConfirmedAt);
        var after = await ReloadAsync(ev.Id);
        Assert.Equal((8, 0, 2), (after.Available, after.Held, after.Confirmed));
        await AssertInvariantAsync();
    }

    [Fact]
    public async Task Confirming_twice_returns_the_same_confirmed_reservation_unchanged()
    {
        var (user, ev, hold) = await HoldAsync();
        var first = await Engine.ConfirmAsync(user, hold.Id, None);

        var second = await Engine.ConfirmAsync(user, hold.Id, None);

        Assert.Equal(ChangeOutcome.Unchanged, second.Outcome);
        Assert.Equal(first.Reservation, second.Reservation);
        Assert.Equal(2, (await ReloadAsync(ev.Id)).Confirmed);
        await AssertInvariantAsync();
    }

    [Fact]
    public async Task Another_users_reservation_is_not_found_for_confirm_release_and_get()
    {
        var (_, ev, hold) = await HoldAsync();
        var stranger = await NewUserAsync();

        Assert.Equal(ChangeOutcome.NotFound, (await Engine.ConfirmAsync(stranger, hold.Id, None)).Outcome);
        Assert.Equal(ChangeOutcome.NotFound, (await Engine.ReleaseAsync(stranger, hold.Id, None)).Outcome);
        Assert.Null(await Engine.GetAsync(hold.Id, stranger, None));
        Assert.Equal(2, (await ReloadAsync(ev.Id)).Held);
    }

    [Fact]
    public async Task Confirm_after_expiry_is_refused_as_expired_and_gives_the_seats_back()
    {
        var (user, ev, hold) = await HoldAsync();
        await ExpireAsync(hold.Id);

        var result = await Engine.ConfirmAsync(user, hold.Id, None);

        Assert.Equal(ChangeOutcome.Expired, result.Outcome);
        Assert.Equal(ReservationStatus.Expired, result.Reservation!.Status);
        var after = await ReloadAsync(ev.Id);
        Assert.Equal((10, 0, 0), (after.Available, after.Held, after.Confirmed));
        Assert.Equal(ChangeOutcome.Expired, (await Engine.ConfirmAsync(user, hold.Id, None)).Outcome);
        await AssertInvariantAsync();
    }

    [Fact]
    public async Task Release_gives_a_hold_back_at_once_and_repeating_it_changes_nothing()
    {
        var (user, ev, hold) = await HoldAsync(3);

        var result = await Engine.ReleaseAsync(user, hold.Id, None);
        var again = await Engine.ReleaseAsync(user, hold.Id, None);

        Assert.Equal(ChangeOutcome.Changed, result.Outcome);
        Assert.Equal(ReservationStatus.Released, result.Reservation!.Status);
        Assert.Equal(ChangeOutcome.Unchanged, again.Outcome);
        Assert.Equal(10, (await ReloadAsync(ev.Id)).Available);
        Assert.Equal(ChangeOutcome.WrongState, (await Engine.ConfirmAsync(user, hold.Id, None)).Outcome);
        await AssertInvariantAsync();
    }

    [Fact]
    public async Task Release_of_a_confirmed_reservation_is_the_wrong_state()
    {
        var (user, _, hold) = await HoldAsync();
        await Engine.ConfirmAsync(user, hold.Id, None);

        Assert.Equal(ChangeOutcome.WrongState, (await Engine.ReleaseAsync(user, hold.Id, None)).Outcome);
    }

    [Fact]
    public async Task Admin_cancel_of_a_confirmed_reservation_returns_its_seats()
    {
        var (user, ev, hold) = await HoldAsync(4);
        await Engine.ConfirmAsync(user, hold.Id, None);

        var result = await Engine.CancelAsync(hold.Id, None);

        Assert.Equal(ChangeOutcome.Changed, result.Outcome);
        Assert.Equal(ReservationStatus.Cancelled, result.Reservation!.Status);
        var after = await ReloadAsync(ev.Id);
        Assert.Equal((10, 0, 0), (after.Available, after.Held, after.Confirmed));
        Assert.Equal(ChangeOutcome.Unchanged, (await Engine.CancelAsync(hold.Id, None)).Outcome);
        Assert.Equal(ChangeOutcome.WrongState, (await Engine.ConfirmAsync(user, hold.Id, None)).Outcome);
        await AssertInvariantAsync();
    }

    [Fact]
    public async Task Cancel_of_a_live_hold_is_the_wrong_state_and_leaves_it_held()
    {
        var (_, ev, hold) = await HoldAsync(3);

        Assert.Equal(ChangeOutcome.WrongState, (await Engine.CancelAsync(hold.Id, None)).Outcome);

        var after = await ReloadAsync(ev.Id);
        Assert.Equal((7, 3, 0), (after.Available, after.Held, after.Confirmed));
        await AssertInvariantAsync();
    }

    [Fact]
    public async Task Cancel_of_a_released_reservation_is_the_wrong_state_and_of_an_unknown_one_not_found()
    {
        var (user, _, hold) = await HoldAsync();
        await Engine.ReleaseAsync(user, hold.Id, None);

        Assert.Equal(ChangeOutcome.WrongState, (await Engine.CancelAsync(hold.Id, None)).Outcome);
        Assert.Equal(ChangeOutcome.NotFound, (await Engine.CancelAsync(Guid.NewGuid(), None)).Outcome);
    }

    [Fact]
    public async Task Listing_shows_only_the_users_own_reservations_newest_first()
    {
        var user = await NewUserAsync();
        var other = await NewUserAsync();
        var ev = await NewEventAsync(10);
        var a = (await Engine.HoldAsync(new HoldRequest(user, ev.Id, 1), None)).Reservation!;
        var b = (await Engine.HoldAsync(new HoldRequest(user, ev.Id, 1), None)).Reservation!;
        await Engine.HoldAsync(new HoldRequest(other, ev.Id, 1), None);

        var page1 = await Engine.ListForUserAsync(user, null, 1, None);
        var page2 = await Engine.ListForUserAsync(user, page1[^1].Id, 10, None);

        Assert.Equal([b.Id], page1.Select(r => r.Id));
        Assert.Equal([a.Id], page2.Select(r => r.Id));
    }
}
