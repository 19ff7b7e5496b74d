using Tickets.Data;

namespace Tickets.Tests;

public sealed class EventStoreTests(PostgresFixture db) : EngineTestBase(db)
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Created_event_starts_with_all_seats_available()
    {
        var ev = await Events.CreateAsync(new NewEvent("Concert", 250, MaxTicketsPerUser: 4, HoldSeconds: 120), None);

        Assert.Equal((250, 250, 0, 0), (ev.Capacity, ev.Available, ev.Held, ev.Confirmed));
        Assert.Equal(4, ev.MaxTicketsPerUser);
        Assert.Equal(120, ev.HoldSeconds);
        Assert.Equal(ev, await Events.GetAsync(ev.Id, None));
    }

    [Fact]
    public async Task Listing_pages_through_events_in_id_order_without_repeats()
    {
        var created = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            created.Add((await NewEventAsync(1)).Id);
        }

        var seen = new List<Guid>();
        Guid? after = null;
        while (true)
        {
            var page = await Events.ListAsync(after, 2, None);
            if (page.Count == 0)
            {
                break;
            }
            seen.AddRange(page.Select(e => e.Id));
            after = page[^1].Id;
        }

        // Ids are UUIDv7: time-ordered to the millisecond, random within one, so "creation order" is id order.
        Assert.Equal(created.Order(), seen.Where(created.Contains));
        Assert.Equal(seen.Count, seen.Distinct().Count());
    }

    [Fact]
    public async Task Capacity_can_grow_and_shrink_but_never_below_held_plus_confirmed()
    {
        var ev = await NewEventAsync(10);
        var user = await NewUserAsync();
        var hold = (await Engine.HoldAsync(new HoldRequest(user, ev.Id, 3), None)).Reservation!;
        await Engine.ConfirmAsync(user, hold.Id, None);
        await Engine.HoldAsync(new HoldRequest(user, ev.Id, 2), None);

        var grown = await Events.UpdateAsync(ev.Id, new EventChanges { Capacity = 20 }, None);
        var tooSmall = await Events.UpdateAsync(ev.Id, new EventChanges { Capacity = 4 }, None);
        var exact = await Events.UpdateAsync(ev.Id, new EventChanges { Capacity = 5, Name = "Renamed" }, None);

        Assert.Equal(EventUpdateOutcome.Updated, grown.Outcome);
        Assert.Equal(15, grown.Event!.Available);
        Assert.Equal(EventUpdateOutcome.CapacityBelowCommitted, tooSmall.Outcome);
        Assert.Equal((5, 0, "Renamed"), (exact.Event!.Capacity, exact.Event.Available, exact.Event.Name));
        Assert.Equal(EventUpdateOutcome.NotFound, (await Events.UpdateAsync(Guid.NewGuid(), new EventChanges { Capacity = 1 }, None)).Outcome);
        await AssertInvariantAsync();
    }

    [Fact]
    public async Task Sales_window_that_closes_before_it_opens_is_refused()
    {
        var ev = await NewEventAsync(10, opens: DateTime.UtcNow.AddDays(1));

        var result = await Events.UpdateAsync(ev.Id, new EventChanges { SalesClosesAt = DateTime.UtcNow }, None);
        var cleared = await Events.UpdateAsync(ev.Id, new EventChanges { ClearSalesOpensAt = true, SalesClosesAt = DateTime.UtcNow }, None);

        Assert.Equal(EventUpdateOutcome.InvalidSalesWindow, result.Outcome);
        Assert.Equal(EventUpdateOutcome.Updated, cleared.Outcome);
        Assert.Null(cleared.Event!.SalesOpensAt);
    }
}
