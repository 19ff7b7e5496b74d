using Microsoft.Extensions.Logging.Abstractions;
using Tickets.Data;

namespace Tickets.Tests;

public sealed class HoldCombinerTests(PostgresFixture db) : EngineTestBase(db)
{
    private static readonly CancellationToken None = CancellationToken.None;

    private HoldCombiner Combiner(BatchOptions? options = null) =>
        new(Engine, options ?? new BatchOptions(), NullLogger<HoldCombiner>.Instance);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public async Task Batched_and_direct_paths_give_identical_outcomes_for_the_same_sequence(int seed)
    {
        var random = new Random(seed);
        var users = new List<Guid>();
        for (var i = 0; i < 8; i++)
        {
            users.Add(await NewUserAsync());
        }
        // Three events with different rules, and a fourth id that does not exist.
        async Task<Guid[]> EventsAsync() =>
        [
            (await NewEventAsync(60, maxPerUser: 9)).Id,
            (await NewEventAsync(25)).Id,
            (await NewEventAsync(40, maxPerUser: 3)).Id,
            Guid.NewGuid(),
        ];
        var direct = await EventsAsync();
        var batched = await EventsAsync();
        var sequence = Enumerable.Range(0, 160)
            .Select(_ => (User: users[random.Next(users.Count)], Event: random.Next(20) == 0 ? 3 : random.Next(3),
                Quantity: random.Next(20) == 0 ? random.Next(-1, 1) : random.Next(1, 6)))
            .ToList();

        var directOutcomes = new List<HoldOutcome>();
        foreach (var (user, ev, quantity) in sequence)
        {
            directOutcomes.Add((await Engine.HoldAsync(new HoldRequest(user, direct[ev], quantity), None)).Outcome);
        }
        // All submitted at once, in sequence order, while one event row is locked so that they pile up into
        // batches spanning several events. One batch at a time keeps arrival order = decision order.
        var combiner = Combiner(new BatchOptions { MaxBatchSize = 32, MaxConcurrentHoldBatches = 1 });
        var block = await BlockEventsAsync(batched[0]);
        var pending = sequence.Select(s => combiner.HoldAsync(new HoldRequest(s.User, batched[s.Event], s.Quantity), None)).ToList();
        await UnblockAsync(block);
        var batchedOutcomes = (await Task.WhenAll(pending)).Select(r => r.Outcome).ToList();

        Assert.Equal(directOutcomes, batchedOutcomes);
        Assert.Contains(HoldOutcome.SoldOut, directOutcomes);
        Assert.Contains(HoldOutcome.LimitExceeded, directOutcomes);
        Assert.Contains(HoldOutcome.EventNotFound, directOutcomes);
        for (var i = 0; i < 3; i++)
        {
            var (d, b) = (await ReloadAsync(direct[i]), await ReloadAsync(batched[i]));
            Assert.Equal((d.Available, d.Held), (b.Available, b.Held));
        }
        await AssertInvariantAsync();
    }

    [Fact]
    public async Task A_thousand_concurrent_holds_through_the_combiner_take_exactly_the_capacity()
    {
        var ev = await NewEventAsync(100);
        var combiner = Combiner();
        var sizes = new System.Collections.Concurrent.ConcurrentBag<int>();
        combiner.HoldBatchCompleted += (size, _) => sizes.Add(size);
        var users = new List<Guid>();
        for (var i = 0; i < 50; i++)
        {
            users.Add(await NewUserAsync());
        }

        var results = await Task.WhenAll(Enumerable.Range(0, 1000).Select(i =>
            Task.Run(() => combiner.HoldAsync(new HoldRequest(users[i % users.Count], ev.Id, 1 + (i % 3)), None))));

        var granted = results.Where(r => r.Outcome == HoldOutcome.Held).Sum(r => r.Reservation!.Quantity);
        Assert.Equal(100, granted);
        Assert.All(results, r => Assert.Contains(r.Outcome, new[] { HoldOutcome.Held, HoldOutcome.SoldOut }));
        Assert.Equal(1000, sizes.Sum());
        Assert.True(sizes.Count < 1000, "no request was batched with another");
        var after = await ReloadAsync(ev.Id);
        Assert.Equal((0, 100), (after.Available, after.Held));
        await AssertInvariantAsync();
    }

    [Fact]
    public async Task Concurrent_confirms_and_releases_through_the_combiner_end_each_hold_once()
    {
        var ev = await NewEventAsync(300);
        var combiner = Combiner();
        var holds = new List<(Guid User, Reservation Hold)>();
        for (var i = 0; i < 100; i++)
        {
            var user = await NewUserAsync();
            holds.Add((user, (await Engine.HoldAsync(new HoldRequest(user, ev.Id, 2), None)).Reservation!));
        }
        var stranger = await NewUserAsync();

        // Per hold: two confirms, a release, and a stranger's confirm, all at once.
        var tasks = holds.SelectMany(h => new Func<Task<ChangeResult>>[]
        {
            () => combiner.ConfirmAsync(h.User, h.Hold.Id, None),
            () => combiner.ConfirmAsync(h.User, h.Hold.Id, None),
            () => combiner.ReleaseAsync(h.User, h.Hold.Id, None),
            () => combiner.ConfirmAsync(stranger, h.Hold.Id, None),
        }.Select((f, kind) => (h.Hold.Id, Kind: kind, Task: Task.Run(f)))).ToList();
        var results = await Task.WhenAll(tasks.Select(async t => (t.Id, t.Kind, Result: await t.Task)));

        foreach (var group in results.GroupBy(t => t.Id))
        {
            Assert.Equal(1, group.Count(t => t.Result.Outcome == ChangeOutcome.Changed));
            Assert.Equal(ChangeOutcome.NotFound, group.Single(t => t.Kind == 3).Result.Outcome);
            var final = (await Engine.GetAsync(group.Key, null, None))!.Status;
            Assert.Equal(final, group.Single(t => t.Result.Outcome == ChangeOutcome.Changed).Result.Reservation!.Status);
        }
        await AssertInvariantAsync();
    }

    [Fact]
    public async Task A_lone_hold_on_an_idle_event_is_a_batch_of_one()
    {
        var ev = await NewEventAsync(10);
        var combiner = Combiner();
        var sizes = new List<int>();
        combiner.HoldBatchCompleted += (size, _) => sizes.Add(size);

        var result = await combiner.HoldAsync(new HoldRequest(await NewUserAsync(), ev.Id, 2), None);

        Assert.Equal(HoldOutcome.Held, result.Outcome);
        Assert.Equal([1], sizes);
    }

    [Fact]
    public async Task A_full_queue_refuses_as_overloaded_and_everything_queued_is_still_decided()
    {
        var ev = await NewEventAsync(100);
        var user = await NewUserAsync();
        var combiner = Combiner(new BatchOptions { MaxQueueLength = 5, MaxBatchSize = 2, MaxConcurrentHoldBatches = 1 });
        var block = await BlockEventsAsync(ev.Id);
        var first = combiner.HoldAsync(new HoldRequest(user, ev.Id, 1), None);
        await Task.Delay(200); // the first batch is now waiting on the row lock, out of the queue
        var more = Enumerable.Range(0, 10).Select(_ => combiner.HoldAsync(new HoldRequest(user, ev.Id, 1), None)).ToList();
        await UnblockAsync(block);

        var results = await Task.WhenAll(more.Prepend(first));
        Assert.Equal(6, results.Count(r => r.Outcome == HoldOutcome.Held));
        Assert.Equal(5, results.Count(r => r.Outcome == HoldOutcome.Overloaded));
        Assert.Equal(94, (await ReloadAsync(ev.Id)).Available);
        await AssertInvariantAsync();
    }

    [Fact]
    public async Task One_failing_request_in_a_batch_fails_alone()
    {
        var ev = await NewEventAsync(10);
        var combiner = Combiner();
        var block = await BlockEventsAsync(ev.Id);
        var good = Enumerable.Range(0, 3).Select(async _ => await combiner.HoldAsync(new HoldRequest(await NewUserAsync(), ev.Id, 1), None)).ToList();
        await Task.Delay(100);
        var unknownUser = combiner.HoldAsync(new HoldRequest(Guid.NewGuid(), ev.Id, 1), None);
        await UnblockAsync(block);

        Assert.All(await Task.WhenAll(good), r => Assert.Equal(HoldOutcome.Held, r.Outcome));
        Assert.Equal(HoldOutcome.UnknownUser, (await unknownUser).Outcome);
        Assert.Equal((7, 3), ((await ReloadAsync(ev.Id)).Available, (await ReloadAsync(ev.Id)).Held));
        await AssertInvariantAsync();
    }

    [Fact]
    public async Task A_caller_that_gives_up_before_its_turn_gets_no_hold()
    {
        var ev = await NewEventAsync(10);
        var combiner = Combiner(new BatchOptions { MaxBatchSize = 1, MaxConcurrentHoldBatches = 1 });
        var block = await BlockEventsAsync(ev.Id);
        var first = combiner.HoldAsync(new HoldRequest(await NewUserAsync(), ev.Id, 1), None);
        await Task.Delay(100);
        using var cancel = new CancellationTokenSource();
        var abandoned = combiner.HoldAsync(new HoldRequest(await NewUserAsync(), ev.Id, 1), cancel.Token);
        await cancel.CancelAsync();
        await UnblockAsync(block);

        Assert.Equal(HoldOutcome.Held, (await first).Outcome);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned);
        await Task.Delay(200);
        Assert.Equal(9, (await ReloadAsync(ev.Id)).Available);
        await AssertInvariantAsync();
    }
}
