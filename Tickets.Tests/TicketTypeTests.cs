using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Tickets.Data;

namespace Tickets.Tests;

/// <summary>Ticket types and multi-line holds in the engine: quotas under a shared venue capacity, prices, limits.</summary>
public sealed class TicketTypeTests(PostgresFixture db) : EngineTestBase(db)
{
    private static readonly CancellationToken None = CancellationToken.None;

    private TicketTypeStore Types => new(Db.Database);

    private Task<Event> NewTypedEventAsync(int capacity, int? maxPerUser = null, params NewTicketType[] types) =>
        Events.CreateAsync(new NewEvent($"Event {Guid.NewGuid():N}", capacity, MaxTicketsPerUser: maxPerUser, Currency: "CHF", TicketTypes: types),
            CancellationToken.None);

    private static HoldRequest Hold(Guid user, Event ev, params (int Type, int Quantity)[] lines) =>
        new(user, ev.Id, lines.Select(l => new HoldLine(ev.TicketTypes[l.Type].Id, l.Quantity)).ToArray());

    private async Task<(int Available, int Held, int Confirmed)[]> TypeCountersAsync(Guid eventId) =>
        (await ReloadAsync(eventId)).TicketTypes.Select(t => (t.Available, t.Held, t.Confirmed)).ToArray();

    [Fact]
    public async Task An_event_created_without_types_has_one_default_type_with_its_capacity_and_price_zero()
    {
        var ev = await NewEventAsync(40);

        var type = Assert.Single(ev.TicketTypes);
        Assert.Equal((Limits.DefaultTicketTypeName, 0, 40, 40, TicketTypeState.OnSale), (type.Name, type.Price, type.Capacity, type.Available, type.State));
        var held = await Engine.HoldAsync(new HoldRequest(await NewUserAsync(), ev.Id, 3), None);
        Assert.Equal(HoldOutcome.Held, held.Outcome);
        Assert.Equal([new ReservationLine(type.Id, 3, 0)], held.Reservation!.Lines);
        Assert.Equal([(37, 3, 0)], await TypeCountersAsync(ev.Id));
        await AssertInvariantAsync();
    }

    [Fact]
    public async Task A_multi_line_hold_takes_seats_from_each_type_and_the_venue_at_the_prices_of_the_moment()
    {
        var ev = await NewTypedEventAsync(100, null, new NewTicketType("Standing", 4500, 80), new NewTicketType("Seated", 7900, 40));
        var user = await NewUserAsync();

        var result = await Engine.HoldAsync(Hold(user, ev, (0, 2), (1, 3)), None);

        Assert.Equal(HoldOutcome.Held, result.Outcome);
        var r = result.Reservation!;
        Assert.Equal(5, r.Quantity);
        Assert.Equal("CHF", r.Currency);
        Assert.Equal(2 * 4500 + 3 * 7900, r.Total);
        Assert.Equal(new[] { new ReservationLine(ev.TicketTypes[0].Id, 2, 4500), new ReservationLine(ev.TicketTypes[1].Id, 3, 7900) }.OrderBy(l => l.TicketTypeId), r.Lines);
        var after = await ReloadAsync(ev.Id);
        Assert.Equal((95, 5, 0), (after.Available, after.Held, after.Confirmed));
        Assert.Equal([(78, 2, 0), (37, 3, 0)], await TypeCountersAsync(ev.Id));
        Assert.Equal(r, await Engine.GetAsync(r.Id, user, None));

        // A later price change never alters the hold.
        Assert.Equal(TicketTypeOutcome.Done, (await Types.UpdateAsync(ev.Id, ev.TicketTypes[1].Id, new TicketTypeChanges { Price = 9900 }, None)).Outcome);
        Assert.Equal(r.Total, (await Engine.GetAsync(r.Id, user, None))!.Total);
        await AssertInvariantAsync();
    }

    public static TheoryData<string> Refusals =>
        ["type sold out", "venue sold out", "paused", "type window", "type limit", "event limit across types", "unknown type", "no type on several"];

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task A_refused_line_refuses_the_whole_hold_names_the_line_and_changes_nothing(string refusal)
    {
        var now = DateTime.UtcNow;
        var ev = await NewTypedEventAsync(refusal == "venue sold out" ? 5 : 100, refusal == "event limit across types" ? 5 : null,
            new NewTicketType("A", 1000, 50),
            new NewTicketType("B", 2000, refusal == "type sold out" ? 2 : 50,
                SalesOpensAt: refusal == "type window" ? now.AddHours(1) : null,
                MaxTicketsPerUser: refusal == "type limit" ? 2 : null,
                State: refusal == "paused" ? TicketTypeState.Paused : TicketTypeState.OnSale));
        var user = await NewUserAsync();
        var before = (await ReloadAsync(ev.Id), await TypeCountersAsync(ev.Id));
        var request = refusal switch
        {
            "unknown type" => new HoldRequest(user, ev.Id, [new HoldLine(ev.TicketTypes[0].Id, 1), new HoldLine(Guid.NewGuid(), 1)]),
            "no type on several" => new HoldRequest(user, ev.Id, 1),
            _ => Hold(user, ev, (0, 3), (1, 3)),
        };

        var result = await Engine.HoldAsync(request, None);
        var whole = await Engine.TryHoldAllAsync([request], None);

        var expected = refusal switch
        {
            "type sold out" => new HoldResult(HoldOutcome.SoldOut, Line: 1, TicketTypeId: ev.TicketTypes[1].Id),
            "venue sold out" => new HoldResult(HoldOutcome.SoldOut),
            "paused" => new HoldResult(HoldOutcome.TicketTypeNotOnSale, Line: 1, TicketTypeId: ev.TicketTypes[1].Id),
            "type window" => new HoldResult(HoldOutcome.SalesNotOpen, Line: 1, TicketTypeId: ev.TicketTypes[1].Id),
            "type limit" => new HoldResult(HoldOutcome.LimitExceeded, Line: 1, TicketTypeId: ev.TicketTypes[1].Id),
            "event limit across types" => new HoldResult(HoldOutcome.LimitExceeded),
            "unknown type" => new HoldResult(HoldOutcome.TicketTypeNotFound, Line: 1, TicketTypeId: request.Lines[1].TicketTypeId),
            _ => new HoldResult(HoldOutcome.TicketTypeRequired),
        };
        Assert.Equal(expected, result);
        Assert.Null(whole);
        Assert.Equal(before.Item1, await ReloadAsync(ev.Id));
        Assert.Equal(before.Item2, await TypeCountersAsync(ev.Id));
        await AssertInvariantAsync();
    }

    [Fact]
    public async Task Limits_count_tickets_across_types_for_the_event_and_per_type_for_the_type()
    {
        var ev = await NewTypedEventAsync(100, 6, new NewTicketType("A", 0, 50, MaxTicketsPerUser: 2), new NewTicketType("B", 0, 50));
        var user = await NewUserAsync();

        var first = (await Engine.HoldAsync(Hold(user, ev, (0, 2), (1, 1)), None)).Reservation!;
        await Engine.ConfirmAsync(user, first.Id, None);

        Assert.Equal(new HoldResult(HoldOutcome.LimitExceeded, Line: 0, TicketTypeId: ev.TicketTypes[0].Id), await Engine.HoldAsync(Hold(user, ev, (0, 1)), None));
        Assert.Equal(new HoldResult(HoldOutcome.LimitExceeded), await Engine.HoldAsync(Hold(user, ev, (1, 4)), None));
        Assert.Equal(HoldOutcome.Held, (await Engine.HoldAsync(Hold(user, ev, (1, 3)), None)).Outcome);
        Assert.Equal(HoldOutcome.Held, (await Engine.HoldAsync(Hold(await NewUserAsync(), ev, (0, 2)), None)).Outcome);
        await AssertInvariantAsync();
    }

    [Fact]
    public async Task Confirm_release_cancel_expiry_and_the_sweeper_return_every_lines_seats_to_its_type()
    {
        var ev = await NewTypedEventAsync(100, null, new NewTicketType("A", 0, 30), new NewTicketType("B", 0, 30));
        var users = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => NewUserAsync()));
        var holds = new List<Reservation>();
        foreach (var user in users)
        {
            holds.Add((await Engine.HoldAsync(Hold(user, ev, (0, 1), (1, 2)), None)).Reservation!);
        }
        Assert.Equal([(25, 5, 0), (20, 10, 0)], await TypeCountersAsync(ev.Id));

        Assert.Equal(ChangeOutcome.Changed, (await Engine.ConfirmAsync(users[0], holds[0].Id, None)).Outcome);
        Assert.Equal(ChangeOutcome.Changed, (await Engine.ConfirmAsync(users[1], holds[1].Id, None)).Outcome);
        Assert.Equal(ChangeOutcome.Changed, (await Engine.CancelAsync(holds[1].Id, None)).Outcome);
        Assert.Equal(ChangeOutcome.Changed, (await Engine.ReleaseAsync(users[2], holds[2].Id, None)).Outcome);
        await ExpireAsync(holds[3].Id);
        Assert.Equal(ChangeOutcome.Expired, (await Engine.ConfirmAsync(users[3], holds[3].Id, None)).Outcome);
        await ExpireAsync(holds[4].Id);
        Assert.Equal(new SweepResult(1, 3), await Engine.ReleaseExpiredHoldsAsync(None));

        Assert.Equal([(29, 0, 1), (28, 0, 2)], await TypeCountersAsync(ev.Id));
        var after = await ReloadAsync(ev.Id);
        Assert.Equal((97, 0, 3), (after.Available, after.Held, after.Confirmed));
        await AssertInvariantAsync();
    }

    [Fact]
    public async Task A_hold_short_of_a_types_seats_first_releases_the_events_expired_holds_back_to_their_types()
    {
        var ev = await NewTypedEventAsync(10, null, new NewTicketType("A", 0, 4), new NewTicketType("B", 0, 10));
        var early = (await Engine.HoldAsync(Hold(await NewUserAsync(), ev, (0, 4), (1, 1)), None)).Reservation!;
        await ExpireAsync(early.Id);

        var result = await Engine.HoldAsync(Hold(await NewUserAsync(), ev, (0, 3)), None);

        Assert.Equal(HoldOutcome.Held, result.Outcome);
        Assert.Equal([(1, 3, 0), (10, 0, 0)], await TypeCountersAsync(ev.Id));
        await AssertInvariantAsync();
    }

    [Fact]
    public async Task A_quota_never_goes_below_held_and_confirmed_and_moves_available_by_the_difference()
    {
        var ev = await NewTypedEventAsync(100, null, new NewTicketType("A", 0, 10), new NewTicketType("B", 0, 10));
        var user = await NewUserAsync();
        await Engine.HoldAsync(Hold(user, ev, (0, 6)), None);
        var a = ev.TicketTypes[0].Id;

        Assert.Equal(TicketTypeOutcome.CapacityBelowCommitted, (await Types.UpdateAsync(ev.Id, a, new TicketTypeChanges { Capacity = 5 }, None)).Outcome);
        var lowered = await Types.UpdateAsync(ev.Id, a, new TicketTypeChanges { Capacity = 6, Name = "A2", State = TicketTypeState.Paused }, None);
        Assert.Equal((TicketTypeOutcome.Done, 6, 0, "A2", TicketTypeState.Paused),
            (lowered.Outcome, lowered.TicketType!.Capacity, lowered.TicketType.Available, lowered.TicketType.Name, lowered.TicketType.State));
        Assert.Equal(TicketTypeOutcome.NotFound, (await Types.UpdateAsync(ev.Id, Guid.NewGuid(), new TicketTypeChanges { Price = 1 }, None)).Outcome);
        Assert.Equal(TicketTypeOutcome.NotFound, (await Types.UpdateAsync(Guid.NewGuid(), a, new TicketTypeChanges { Price = 1 }, None)).Outcome);
        Assert.Equal(TicketTypeOutcome.InvalidSalesWindow, (await Types.UpdateAsync(ev.Id, a, new TicketTypeChanges
        {
            SalesOpensAt = DateTime.UtcNow.AddHours(2), SalesClosesAt = DateTime.UtcNow.AddHours(1),
        }, None)).Outcome);

        var added = await Types.CreateAsync(ev.Id, new NewTicketType("C", 500, 5), None);
        Assert.Equal((TicketTypeOutcome.Done, 2), (added.Outcome, added.TicketType!.SortOrder));
        Assert.Equal(TicketTypeOutcome.EventNotFound, (await Types.CreateAsync(Guid.NewGuid(), new NewTicketType("C", 500, 5), None)).Outcome);
        Assert.Equal(["A2", "B", "C"], (await ReloadAsync(ev.Id)).TicketTypes.Select(t => t.Name));
        await AssertInvariantAsync();
    }

    [Fact]
    public async Task The_only_types_quota_follows_the_events_capacity()
    {
        var ev = await NewEventAsync(10);
        await Engine.HoldAsync(new HoldRequest(await NewUserAsync(), ev.Id, 4), None);

        var raised = await Events.UpdateAsync(ev.Id, new EventChanges { Capacity = 25 }, None);

        Assert.Equal((25, 21), (raised.Event!.Capacity, raised.Event.Available));
        Assert.Equal((25, 21, 4), (raised.Event.TicketTypes[0].Capacity, raised.Event.TicketTypes[0].Available, raised.Event.TicketTypes[0].Held));
        Assert.Equal(HoldOutcome.Held, (await Engine.HoldAsync(new HoldRequest(await NewUserAsync(), ev.Id, 20), None)).Outcome);
        await AssertInvariantAsync();
    }

    [Fact]
    public async Task Database_refuses_type_counters_that_break_the_invariant_or_differ_from_the_events()
    {
        var ev = await NewEventAsync(5);
        await using var connection = await Db.DataSource.OpenConnectionAsync();

        var sum = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteAsync("update ticket_types set held = held + 1 where event_id = @Id", new { ev.Id }));
        var negative = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteAsync(
            "update ticket_types set available = -1, held = held + available + 1 where event_id = @Id", new { ev.Id }));
        var apart = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteAsync(
            "update ticket_types set available = available - 1, held = held + 1 where event_id = @Id", new { ev.Id }));

        Assert.Equal("ticket_types_counters_sum", sum.ConstraintName);
        Assert.Equal("ticket_types_counters_non_negative", negative.ConstraintName);
        Assert.Equal("events_ticket_type_sums", apart.ConstraintName);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Batched_and_direct_paths_decide_multi_line_holds_identically(int seed)
    {
        var random = new Random(seed);
        var directUsers = new List<Guid>();
        var batchedUsers = new List<Guid>();
        for (var i = 0; i < 8; i++)
        {
            directUsers.Add(await NewUserAsync());
            batchedUsers.Add(await NewUserAsync());
        }
        // Three types under a venue smaller than their quotas, one with its own limit, one paused; and an event
        // of one type to which requests without types go.
        async Task<Event[]> EventsAsync() =>
        [
            await NewTypedEventAsync(70, 12,
                new NewTicketType("A", 1000, 30), new NewTicketType("B", 2500, 30, MaxTicketsPerUser: 4), new NewTicketType("C", 5000, 30),
                new NewTicketType("Paused", 100, 30, State: TicketTypeState.Paused)),
            await NewEventAsync(40),
        ];
        var direct = await EventsAsync();
        var batched = await EventsAsync();
        var sequence = Enumerable.Range(0, 160).Select(_ =>
        {
            var onTyped = random.Next(4) != 0;
            var types = Enumerable.Range(0, random.Next(5) == 0 ? 4 : 3).OrderBy(_ => random.Next()).Take(random.Next(1, 4)).ToArray();
            return (User: random.Next(8), Typed: onTyped, Lines: onTyped ? types.Select(t => (t, random.Next(1, 4))).ToArray() : [(-1, random.Next(1, 4))]);
        }).ToList();
        HoldRequest Request(Event[] events, List<Guid> users, (int User, bool Typed, (int Type, int Quantity)[] Lines) s) => s.Typed
            ? Hold(users[s.User], events[0], s.Lines)
            : new HoldRequest(users[s.User], events[1].Id, s.Lines[0].Quantity);

        var directResults = new List<HoldResult>();
        foreach (var s in sequence)
        {
            directResults.Add(await Engine.HoldAsync(Request(direct, directUsers, s), None));
        }
        var combiner = new HoldCombiner(Engine, new BatchOptions { MaxBatchSize = 6, MaxConcurrentHoldBatches = 1 }, NullLogger<HoldCombiner>.Instance);
        var paths = new List<bool>();
        combiner.HoldBatchCompleted += (_, whole) => { lock (paths) { paths.Add(whole); } };
        var block = await BlockEventsAsync(batched[0].Id, batched[1].Id);
        var pending = sequence.Select(s => combiner.HoldAsync(Request(batched, batchedUsers, s), None)).ToList();
        await UnblockAsync(block);
        var batchedResults = await Task.WhenAll(pending);

        // The same outcome, the same refused line; a refused line's type is the same type on the other side.
        string Describe(HoldResult r, Event[] events) =>
            $"{r.Outcome} line {r.Line} type {(r.TicketTypeId is { } t ? events[0].TicketTypes.ToList().FindIndex(x => x.Id == t) : -1)} " +
            $"total {r.Reservation?.Total}";
        Assert.Equal(directResults.Select(r => Describe(r, direct)), batchedResults.Select(r => Describe(r, batched)));
        Assert.Contains(true, paths);
        Assert.Contains(false, paths);
        var outcomes = directResults.Select(r => r.Outcome).ToHashSet();
        Assert.Superset(new HashSet<HoldOutcome> { HoldOutcome.Held, HoldOutcome.SoldOut, HoldOutcome.LimitExceeded, HoldOutcome.TicketTypeNotOnSale }, outcomes);
        Assert.Contains(directResults, r => r is { Outcome: HoldOutcome.SoldOut, Line: not null });
        Assert.Contains(directResults, r => r is { Outcome: HoldOutcome.LimitExceeded, Line: not null });
        for (var i = 0; i < 2; i++)
        {
            var (d, b) = (await ReloadAsync(direct[i].Id), await ReloadAsync(batched[i].Id));
            Assert.Equal((d.Available, d.Held), (b.Available, b.Held));
            Assert.Equal(d.TicketTypes.Select(t => (t.Available, t.Held)), b.TicketTypes.Select(t => (t.Available, t.Held)));
        }
        await AssertInvariantAsync();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Hundreds_of_buyers_racing_for_the_last_seats_of_two_types_sharing_a_venue_never_oversell_either(bool batched)
    {
        // Quotas of 60 and 60 under a venue of 100: whichever sells first, the venue runs out before both quotas.
        var ev = await NewTypedEventAsync(100, null, new NewTicketType("Standing", 3000, 60), new NewTicketType("Seated", 6000, 60));
        var users = await Task.WhenAll(Enumerable.Range(0, 400).Select(_ => NewUserAsync()));
        var combiner = new HoldCombiner(Engine, new BatchOptions(), NullLogger<HoldCombiner>.Instance);
        var random = new Random(7);
        var requests = users.Select(u => random.Next(3) switch
        {
            0 => Hold(u, ev, (0, random.Next(1, 3))),
            1 => Hold(u, ev, (1, random.Next(1, 3))),
            _ => Hold(u, ev, (0, 1), (1, 1)),
        }).ToArray();

        var results = await Task.WhenAll(requests.Select(r => Task.Run(() => batched ? combiner.HoldAsync(r, None) : Engine.HoldAsync(r, None))));

        Assert.All(results, r => Assert.Contains(r.Outcome, new[] { HoldOutcome.Held, HoldOutcome.SoldOut }));
        var held = results.Where(r => r.Outcome == HoldOutcome.Held).SelectMany(r => r.Reservation!.Lines).ToList();
        var after = await ReloadAsync(ev.Id);
        var types = after.TicketTypes;
        Assert.Equal(held.Sum(l => l.Quantity), after.Held);
        // Seats only ever went down: a refused request that would fit what is left now was refused wrongly.
        var left = after.TicketTypes.ToDictionary(t => t.Id, t => t.Available);
        for (var i = 0; i < requests.Length; i++)
        {
            if (results[i].Outcome == HoldOutcome.SoldOut)
            {
                Assert.True(requests[i].Quantity > after.Available || requests[i].Lines.Any(l => l.Quantity > left[l.TicketTypeId!.Value]),
                    $"Request {i} was refused as sold out but fits what is left");
            }
        }
        Assert.Contains(results, r => r.Outcome == HoldOutcome.SoldOut);
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(held.Where(l => l.TicketTypeId == types[i].Id).Sum(l => l.Quantity), types[i].Held);
            Assert.InRange(types[i].Held, 0, 60);
        }
        Assert.Equal(after.Held, types.Sum(t => t.Held));
        await AssertInvariantAsync();
    }
}
