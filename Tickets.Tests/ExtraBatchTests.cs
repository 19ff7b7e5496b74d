using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using Tickets.Data;

namespace Tickets.Tests;

/// <summary>
/// A second hold batch starts beside one in flight only when enough requests wait to fill it
/// (<see cref="BatchOptions.ExtraHoldBatchMinimum"/>): an instance with few buyers keeps one batch at a time, and
/// its batches their size. No database here: what is tested is when a batch starts and what it holds.
/// </summary>
public sealed class ExtraBatchTests
{
    [Fact]
    public async Task A_second_batch_starts_beside_the_first_only_once_enough_requests_wait_for_it()
    {
        var started = new ConcurrentQueue<int[]>();
        var firstMayFinish = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var queue = new BatchQueue<int, int>(
            async (requests, _) =>
            {
                started.Enqueue([.. requests]);
                if (requests[0] == 1)
                {
                    await firstMayFinish.Task;
                }
                return [.. requests];
            },
            () => null!,
            _ => throw new InvalidOperationException("No batch fails here."),
            overloaded: -1, new BatchOptions(), maxConcurrentBatches: 2, extraBatchMinimum: 3, NullLogger.Instance);
        async Task WaitForBatchesAsync(int count)
        {
            for (var i = 0; i < 200 && started.Count < count; i++)
            {
                await Task.Delay(10);
            }
        }

        var first = queue.EnqueueAsync(1, CancellationToken.None);
        await WaitForBatchesAsync(1);
        var waiting = new List<Task<int>> { queue.EnqueueAsync(2, CancellationToken.None), queue.EnqueueAsync(3, CancellationToken.None) };
        await Task.Delay(300);
        Assert.Single(started); // two waiting: not enough for a batch of their own

        waiting.Add(queue.EnqueueAsync(4, CancellationToken.None));
        await WaitForBatchesAsync(2);
        Assert.Equal([[1], [2, 3, 4]], started.ToArray()); // the second batch ran while the first was still in flight
        Assert.False(first.IsCompleted);

        firstMayFinish.SetResult();
        var answers = await Task.WhenAll(waiting.Prepend(first));
        Assert.Equal([1, 2, 3, 4], answers);
    }
}
