using Tickets.Data;

namespace Tickets.Tests;

public sealed class ConcurrencyTests(PostgresFixture db) : EngineTestBase(db)
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Five_hundred_concurrent_holds_for_one_hundred_seats_hold_exactly_one_hundred()
    {
        var ev = await NewEventAsync(100);
        var users = await Task.WhenAll(Enumerable.Range(0, 500).Select(_ => NewUserAsync()));

        var results = await Task.WhenAll(users.Select(u => Task.Run(() => Engine.HoldAsync(new HoldRequest(u, ev.Id, 1), None))));

        Assert.Equal(100, results.Count(r => r.Outcome == HoldOutcome.Held));
        Assert.Equal(400, results.Count(r => r.Outcome == HoldOutcome.SoldOut));
        var after = await ReloadAsync(ev.Id);
        Assert.Equal((0, 100, 0), (after.Available, after.Held, after.Confirmed));
        await AssertInvariantAsync();
    }

    [Fact]
    public async Task Concurrent_holds_of_mixed_sizes_never_oversell()
    {
        var ev = await NewEventAsync(97);
        var users = await Task.WhenAll(Enumerable.Range(0, 300).Select(_ => NewUserAsync()));

        var results = await Task.WhenAll(users.Select((u, i) => Task.Run(() => Engine.HoldAsync(new HoldRequest(u, ev.Id, 1 + (i % 4)), None))));

        var heldSeats = results.Where(r => r.Outcome == HoldOutcome.Held).Sum(r => r.Reservation!.Quantity);
        var after = await ReloadAsync(ev.Id);
        Assert.Equal(heldSeats, after.Held);
        Assert.True(after.Available < 4, $"A sold-out answer was given while {after.Available} seats were left for a smaller hold");
        await AssertInvariantAsync();
    }

    [Fact]
    public async Task Per_user_limit_holds_under_concurrent_requests_from_the_same_user()
    {
        var ev = await NewEventAsync(1000, maxPerUser: 5);
        var users = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => NewUserAsync()));

        // Each user fires 20 single-seat holds at once.
        var results = await Task.WhenAll(users.SelectMany(u => Enumerable.Range(0, 20)
            .Select(_ => Task.Run(async () => (User: u, Result: await Engine.HoldAsync(new HoldRequest(u, ev.Id, 1), None))))));

        foreach (var group in results.GroupBy(r => r.User))
        {
            Assert.Equal(5, group.Count(r => r.Result.Outcome == HoldOutcome.Held));
            Assert.Equal(15, group.Count(r => r.Result.Outcome == HoldOutcome.LimitExceeded));
        }
        Assert.Equal(50, (await ReloadAsync(ev.Id)).Held);
        await AssertInvariantAsync();
    }

    [Fact]
    public async Task Concurrent_confirms_releases_and_cancels_keep_the_invariant_and_never_double_confirm()
    {
        var ev = await NewEventAsync(200);
        var holds = new List<(Guid User, Reservation Hold)>();
        for (var i = 0; i < 100; i++)
        {
            var u = await NewUserAsync();
            holds.Add((u, (await Engine.HoldAsync(new HoldRequest(u, ev.Id, 2), None)).Reservation!));
        }

        // Every hold gets two confirms, a release and an admin cancel at the same time.
        var tasks = holds.SelectMany(h => new Func<Task<ChangeResult>>[]
        {
            () => Engine.ConfirmAsync(h.User, h.Hold.Id, None),
            () => Engine.ConfirmAsync(h.User, h.Hold.Id, None),
            () => Engine.ReleaseAsync(h.User, h.Hold.Id, None),
            () => Engine.CancelAsync(h.Hold.Id, None),
        }.Select(f => (h.Hold.Id, Task: Task.Run(f)))).ToList();
        await Task.WhenAll(tasks.Select(t => t.Task));

        foreach (var group in tasks.GroupBy(t => t.Id))
        {
            var changed = group.Count(t => t.Task.Result.Outcome == ChangeOutcome.Changed);
            Assert.InRange(changed, 1, 2); // one move out of HOLD, and possibly a cancel after a confirm
            Assert.True(group.Count(t => t.Task.Result.Outcome == ChangeOutcome.Changed && t.Task.Result.Reservation!.Status == ReservationStatus.Confirmed) <= 1);
        }
        await AssertInvariantAsync();
    }
}
