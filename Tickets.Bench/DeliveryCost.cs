// What delivering a webhook message costs PostgreSQL: the claim and the record of rounds of 200, 50 and 10 messages,
// one after another on one connection with nothing else running, the backend's CPU time read from /proc. The sending
// itself is left out (each claimed message is recorded as delivered): this is the database's share alone.
using System.Globalization;
using System.Text;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Tickets.Data;

namespace Tickets.Bench;

internal sealed record DeliveryCostFigures(int RoundSize, int Rounds, int Messages, double ClaimMicrosPerMessage, double RecordMicrosPerMessage);

internal static class DeliveryCostPhase
{
    private static readonly int[] RoundSizes = [200, 50, 10];

    public static async Task<List<DeliveryCostFigures>> RunAsync(string connectionString, NpgsqlDataSource dataSource, int messagesPerSize)
    {
        var database = new Database(dataSource, NullLogger<Database>.Instance);
        var engine = new ReservationEngine(database, NullLogger<ReservationEngine>.Instance);
        // One connection, so that one backend runs every claim and record.
        await using var single = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString) { MaxPoolSize = 1 }.ConnectionString);
        var store = new WebhookStore(new Database(single, NullLogger<Database>.Instance));
        var subscription = Guid.NewGuid();
        await store.CreateAsync(subscription, "https://receiver.invalid/hooks", ["reservation.held"], "delivery cost", new byte[48], CancellationToken.None);
        try
        {
            var ev = await new EventStore(database).CreateAsync(new NewEvent("Delivery cost", 10_000_000), CancellationToken.None);
            var holds = RoundSizes.Length * messagesPerSize;
            var buyers = await DatabaseCost.CreateBuyersAsync(dataSource, "delivery-cost", holds);
            // Each hold batch's statement writes its messages (the outbox trigger), as in an on-sale.
            foreach (var chunk in buyers.Chunk(100))
            {
                await engine.HoldBatchAsync(chunk.Select(b => new HoldRequest(b, ev.Id, 1)).ToList(), CancellationToken.None);
            }
            int backend;
            await using (var connection = await single.OpenConnectionAsync())
            {
                backend = await connection.ExecuteScalarAsync<int>("select pg_backend_pid()");
            }
            long CpuNanoseconds() => DatabaseCost.CpuNanoseconds(backend);

            var figures = new List<DeliveryCostFigures>();
            foreach (var size in RoundSizes)
            {
                double claim = 0, record = 0;
                var (messages, rounds) = (0, 0);
                while (messages < messagesPerSize)
                {
                    var before = CpuNanoseconds();
                    var claimed = await store.ClaimAsync(size, TimeSpan.FromMinutes(5), CancellationToken.None);
                    var between = CpuNanoseconds();
                    if (claimed.Count == 0)
                    {
                        throw new InvalidOperationException($"Only {messages} of {messagesPerSize} messages were due for rounds of {size}.");
                    }
                    await store.RecordAsync(claimed.Select(m => new WebhookAttemptResult(m.Id, m.Attempts, WebhookAttemptOutcome.Delivered,
                        DateTime.UtcNow, 3, 200, null, null, TimeSpan.Zero)).ToList(), TimeSpan.FromDays(1), TimeSpan.FromDays(1), CancellationToken.None);
                    claim += (between - before) / 1000.0;
                    record += (CpuNanoseconds() - between) / 1000.0;
                    messages += claimed.Count;
                    rounds++;
                }
                figures.Add(new DeliveryCostFigures(size, rounds, messages, claim / messages, record / messages));
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"delivery cost: {string.Join(", ", figures.Select(f => $"rounds of {f.RoundSize}: claim {f.ClaimMicrosPerMessage:N0} + record {f.RecordMicrosPerMessage:N0} µs a message"))}"));
            return figures;
        }
        finally
        {
            // The phases after this one make subscriptions of their own.
            await store.DeleteAsync(subscription, CancellationToken.None);
        }
    }

    public static string Table(IReadOnlyList<DeliveryCostFigures> figures)
    {
        var text = new StringBuilder();
        text.AppendLine("| messages per round | rounds | claim, µs per message | record, µs per message | both |");
        text.AppendLine("|---:|---:|---:|---:|---:|");
        foreach (var f in figures)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {f.RoundSize} | {f.Rounds:N0} | {f.ClaimMicrosPerMessage:N0} | {f.RecordMicrosPerMessage:N0} | {f.ClaimMicrosPerMessage + f.RecordMicrosPerMessage:N0} |");
        }
        return text.ToString();
    }
}
