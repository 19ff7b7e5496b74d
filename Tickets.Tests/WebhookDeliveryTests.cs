using System.Net;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Tickets.Api;
using Tickets.Data;

namespace Tickets.Tests;

/// <summary>
/// The outbox triggers and the delivery loop against real PostgreSQL and a real HTTP receiver on loopback. The tests
/// of this class share one schema and run one at a time; each starts with no subscriptions.
/// </summary>
public sealed class WebhookDeliveryTests(PostgresFixture db) : EngineTestBase(db), IAsyncLifetime
{
    private static readonly string Key = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

    private WebhookReceiver _receiver = null!;

    private WebhookStore Store => new(Db.Database);

    public async Task InitializeAsync()
    {
        await using var connection = await Db.DataSource.OpenConnectionAsync();
        await connection.ExecuteAsync("delete from webhook_subscriptions; delete from webhook_messages; delete from webhook_attempts;");
        _receiver = await WebhookReceiver.StartAsync();
    }

    public async Task DisposeAsync() => await _receiver.DisposeAsync();

    private static WebhookOptions Options(Action<WebhookOptions>? change = null)
    {
        var options = new WebhookOptions
        {
            SecretKey = Key,
            AllowHttp = true,
            AllowLoopbackTargets = true,
            RetryBaseDelay = TimeSpan.FromMilliseconds(100),
            MaxRetryDelay = TimeSpan.FromMilliseconds(400),
            ConnectTimeout = TimeSpan.FromSeconds(2),
            ResponseTimeout = TimeSpan.FromSeconds(2),
        };
        change?.Invoke(options);
        return options;
    }

    private WebhookDelivery Delivery(WebhookOptions? options = null, Func<string, CancellationToken, Task<IPAddress[]>>? resolve = null)
    {
        var o = Microsoft.Extensions.Options.Options.Create(options ?? Options());
        var targets = resolve is null ? new WebhookTargets(o) : new WebhookTargets(o) { Resolve = resolve };
        return new WebhookDelivery(Store, new WebhookSecrets(o), targets, o, NullLogger<WebhookDelivery>.Instance);
    }

    private async Task<(Guid Id, string Secret)> SubscribeAsync(string[] events, string? url = null)
    {
        var id = Guid.CreateVersion7();
        var secret = WebhookSecrets.NewSecret();
        var sealedSecret = new WebhookSecrets(Microsoft.Extensions.Options.Options.Create(Options())).Seal(id, secret);
        await Store.CreateAsync(id, url ?? _receiver.Url.AbsoluteUri, events, null, sealedSecret, CancellationToken.None);
        return (id, secret);
    }

    private async Task<long> CountAsync(string sql, object? args = null)
    {
        await using var connection = await Db.DataSource.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<long>(sql, args);
    }

    private Task<long> PendingAsync() => CountAsync("select count(*) from webhook_messages where status = 'pending'");

    /// <summary>Runs delivery rounds until nothing is pending (or the deadline).</summary>
    private async Task DeliverAllAsync(WebhookDelivery delivery, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(20));
        while (await PendingAsync() > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "Messages still pending at the deadline.");
            if (await delivery.RunOnceAsync(CancellationToken.None) == 0)
            {
                await Task.Delay(50);
            }
        }
    }

    private async Task<Guid> HoldAsync(Guid eventId, Guid? userId = null, int quantity = 1)
    {
        var result = await Engine.HoldAsync(new HoldRequest(userId ?? await NewUserAsync(), eventId, quantity), CancellationToken.None);
        Assert.Equal(HoldOutcome.Held, result.Outcome);
        return result.Reservation!.Id;
    }

    private static JsonElement Json(ReceivedWebhook w) => JsonDocument.Parse(w.Body).RootElement;

    [Fact]
    public async Task A_claim_reads_only_due_messages_of_enabled_subscriptions_however_large_the_others_backlogs()
    {
        var (disabled, _) = await SubscribeAsync(["reservation.held"]);
        var (failing, _) = await SubscribeAsync(["reservation.held"]);
        var (healthy, _) = await SubscribeAsync(["reservation.held"]);
        Assert.NotNull(await Store.UpdateAsync(disabled, new WebhookChanges { Enabled = false }, CancellationToken.None));
        await using (var connection = await Db.DataSource.OpenConnectionAsync())
        {
            // Oldest first: a disabled subscription's backlog, then a failing one's messages waiting for their retry,
            // then the one message that is due.
            await connection.ExecuteAsync("""
                insert into webhook_messages (id, subscription_id, type, subject_id, payload, next_attempt_at)
                select gen_random_uuid(), s.subscription_id, 'event.updated', gen_random_uuid(), '{}'::jsonb, s.next_attempt_at
                from (select @Disabled as subscription_id, clock_timestamp() - interval '1 hour' as next_attempt_at, generate_series(1, 3000)
                      union all
                      select @Failing, clock_timestamp() + interval '1 hour', generate_series(1, 3000)) s;
                insert into webhook_messages (id, subscription_id, type, subject_id, payload)
                values (gen_random_uuid(), @Healthy, 'event.updated', gen_random_uuid(), '{}'::jsonb);
                analyze webhook_messages;
                """, new { Disabled = disabled, Failing = failing, Healthy = healthy });
        }

        await using (var connection = await Db.DataSource.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            var plan = await ExplainClaimAsync(connection, transaction, limit: 200);
            var read = RowsRead(plan, "webhook_messages");
            Assert.True(read is >= 1 and <= 20, plan.ToString());
            await transaction.RollbackAsync();
        }
        var claimed = Assert.Single(await Store.ClaimAsync(200, TimeSpan.FromMinutes(1), CancellationToken.None));
        Assert.Equal(healthy, claimed.SubscriptionId);
    }

    [Fact]
    public async Task A_claim_probes_each_candidate_once_even_planned_without_statistics()
    {
        // The first minute of an on-sale: the outbox grew from nothing to thousands of messages since its last
        // analyze, and its columns have no statistics. Planned so, the NOT EXISTS the claim once used became an
        // anti-join comparing every candidate with every pending message of the subscription (200 x 2,000 rows
        // here; 0.3-2.7 s a claim in the benchmark).
        var (healthy, _) = await SubscribeAsync(["reservation.held"]);
        await using var connection = await Db.DataSource.OpenConnectionAsync();
        await connection.ExecuteAsync("""
            insert into webhook_messages (id, subscription_id, type, subject_id, payload, next_attempt_at)
            select gen_random_uuid(), @Healthy, 'reservation.held', gen_random_uuid(), '{}'::jsonb, clock_timestamp() - interval '1 minute'
            from generate_series(1, 2000)
            """, new { Healthy = healthy });
        await using var transaction = await connection.BeginTransactionAsync();
        await connection.ExecuteAsync("delete from pg_statistic where starelid = 'webhook_messages'::regclass", transaction: transaction);
        var plan = await ExplainClaimAsync(connection, transaction, limit: 200);
        var read = RowsRead(plan, "webhook_messages");
        // The candidates along the due index (200), one probe each (200), the claimed rows updated by id (200).
        Assert.True(read <= 800, $"{read} rows read: {plan}");
        await transaction.RollbackAsync();
    }

    [Fact]
    public async Task Recording_a_round_reads_only_its_messages_even_planned_without_statistics()
    {
        var (healthy, _) = await SubscribeAsync(["reservation.held"]);
        await using var connection = await Db.DataSource.OpenConnectionAsync();
        await connection.ExecuteAsync("""
            insert into webhook_messages (id, subscription_id, type, subject_id, payload, next_attempt_at, attempts, locked_until)
            select gen_random_uuid(), @Healthy, 'reservation.held', gen_random_uuid(), '{}'::jsonb, clock_timestamp() - interval '1 minute', 1,
                   clock_timestamp() + interval '1 minute'
            from generate_series(1, 2000)
            """, new { Healthy = healthy });
        var ids = (await connection.QueryAsync<Guid>("select id from webhook_messages order by seq limit 200")).ToArray();
        await using var transaction = await connection.BeginTransactionAsync();
        await connection.ExecuteAsync("delete from pg_statistic where starelid = 'webhook_messages'::regclass", transaction: transaction);
        await connection.ExecuteAsync(WebhookStore.IndexedSettings, transaction: transaction);
        var plan = JsonDocument.Parse(await connection.ExecuteScalarAsync<string>("explain (analyze, format json) " + WebhookStore.RecordSql, new
        {
            Ids = ids,
            Attempts = ids.Select(_ => 1).ToArray(),
            Delivered = ids.Select(_ => true).ToArray(),
            StartedAts = ids.Select(_ => DateTime.UtcNow).ToArray(),
            Durations = ids.Select(_ => 5).ToArray(),
            StatusCodes = ids.Select(_ => (int?)200).ToArray(),
            Errors = ids.Select(_ => (string?)null).ToArray(),
            Bodies = ids.Select(_ => (string?)null).ToArray(),
            DelaysMs = ids.Select(_ => 0L).ToArray(),
            RetryWindow = TimeSpan.FromDays(1),
        }, transaction) ?? "").RootElement[0].GetProperty("Plan");
        var read = RowsRead(plan, "webhook_messages");
        Assert.True(read <= 400, $"{read} rows read: {plan}");
        Assert.Equal(200, await connection.ExecuteScalarAsync<long>("select count(*) from webhook_messages where status = 'delivered'", transaction: transaction));
        await transaction.RollbackAsync();
    }

    [Fact]
    public async Task Recording_a_round_unnests_its_outcomes_once_with_the_statistics_of_a_busy_outbox()
    {
        // Analyzed while nearly every message is delivered (autovacuum's view of a busy outbox), the table says no
        // message holds a lease. The planner then expected one leased message among a round's 200, made it the outer
        // side of a nested loop and unnested the round's nine outcome arrays again for each message: 40,000 outcome
        // rows for a round of 200, 30-150 ms of the database's CPU per round in the benchmark's hooked phase.
        var (healthy, _) = await SubscribeAsync(["reservation.held"]);
        await using var connection = await Db.DataSource.OpenConnectionAsync();
        await connection.ExecuteAsync("""
            insert into webhook_messages (id, subscription_id, type, subject_id, payload, status, attempts, delivered_at)
            select gen_random_uuid(), @Healthy, 'reservation.held', gen_random_uuid(), '{}'::jsonb, 'delivered', 1, clock_timestamp()
            from generate_series(1, 20000);
            analyze webhook_messages;
            insert into webhook_messages (id, subscription_id, type, subject_id, payload)
            select gen_random_uuid(), @Healthy, 'reservation.held', gen_random_uuid(), '{}'::jsonb
            from generate_series(1, 200);
            """, new { Healthy = healthy });
        var claimed = await Store.ClaimAsync(200, TimeSpan.FromMinutes(1), CancellationToken.None);
        Assert.Equal(200, claimed.Count);

        await using var transaction = await connection.BeginTransactionAsync();
        await connection.ExecuteAsync(WebhookStore.IndexedSettings, transaction: transaction);
        var plan = JsonDocument.Parse(await connection.ExecuteScalarAsync<string>("explain (analyze, format json) " + WebhookStore.RecordSql, new
        {
            Ids = claimed.Select(m => m.Id).ToArray(),
            Attempts = claimed.Select(m => m.Attempts).ToArray(),
            Delivered = claimed.Select(_ => true).ToArray(),
            StartedAts = claimed.Select(_ => DateTime.UtcNow).ToArray(),
            Durations = claimed.Select(_ => 5).ToArray(),
            StatusCodes = claimed.Select(_ => (int?)200).ToArray(),
            Errors = claimed.Select(_ => (string?)null).ToArray(),
            Bodies = claimed.Select(_ => (string?)null).ToArray(),
            DelaysMs = claimed.Select(_ => 0L).ToArray(),
            RetryWindow = TimeSpan.FromDays(1),
        }, transaction) ?? "").RootElement[0].GetProperty("Plan");
        var outcomes = Nodes(plan).Where(n => n.TryGetProperty("Alias", out var alias) && alias.GetString() == "r")
            .Sum(n => n.GetProperty("Actual Rows").GetDouble() * n.GetProperty("Actual Loops").GetDouble());
        Assert.True(outcomes <= 400, $"{outcomes} outcome rows produced: {plan}");
        var read = RowsRead(plan, "webhook_messages");
        Assert.True(read <= 400, $"{read} rows read: {plan}");
        Assert.Equal(200, await connection.ExecuteScalarAsync<long>("select count(*) from webhook_messages where status = 'delivered' and id = any (@Ids)",
            new { Ids = claimed.Select(m => m.Id).ToArray() }, transaction));
        await transaction.RollbackAsync();
    }

    [Fact]
    public async Task A_claim_reads_the_details_of_its_reservations_alone_however_many_the_table_holds()
    {
        // A round's reservations are the newest (time-ordered ids). Joined to their lines by a merge join along the
        // lines' primary key, the claim read every line written since the start (54,000 in the benchmark's hooked
        // phase, 90-100 ms a round, and growing with every sale).
        var e = await NewEventAsync(10);
        var user = await NewUserAsync();
        var ids = Enumerable.Range(0, 20_000).Select(_ => Guid.CreateVersion7()).ToArray();
        await using var connection = await Db.DataSource.OpenConnectionAsync();
        // All in a transaction that rolls back, statistics included: the other tests of the schema never see them.
        await using var transaction = await connection.BeginTransactionAsync();
        await connection.ExecuteAsync("""
            insert into reservations (id, event_id, user_id, quantity, status, created_at, expires_at, ended_at)
            select id, @Event, @User, 1, 'EXPIRED', now(), now(), now() from unnest(@Ids) as i (id);
            insert into reservation_lines (reservation_id, ticket_type_id, quantity, unit_price)
            select id, @Type, 1, 100 from unnest(@Ids) as i (id);
            analyze reservations;
            analyze reservation_lines;
            """, new { Event = e.Id, User = user, Type = e.TicketTypes[0].Id, Ids = ids }, transaction);
        var newest = ids.Order().TakeLast(200).ToArray();

        // Which join the planner picks is a close call on costs (in the benchmark it picked the merge join with the
        // default costs and 54,000 lines). Dearer random reads tip it here; the details must not depend on it.
        await connection.ExecuteAsync("set local random_page_cost = 40", transaction: transaction);
        await connection.ExecuteAsync(WebhookStore.ReservationDetailsSettings, transaction: transaction);
        var plan = JsonDocument.Parse(await connection.ExecuteScalarAsync<string>("explain (analyze, format json) " + WebhookStore.ReservationDetailsSql,
            new { Ids = newest }, transaction) ?? "").RootElement[0].GetProperty("Plan");
        Assert.Equal(200, plan.GetProperty("Actual Rows").GetDouble());
        Assert.True(RowsRead(plan, "reservation_lines") <= 400, $"{RowsRead(plan, "reservation_lines")} lines read: {plan}");
        Assert.True(RowsRead(plan, "reservations") <= 400, $"{RowsRead(plan, "reservations")} reservations read: {plan}");
        await transaction.RollbackAsync();
    }

    [Fact]
    public async Task Finished_messages_and_attempts_past_retention_are_deleted_reading_only_old_rows()
    {
        var (subscription, _) = await SubscribeAsync(["reservation.held"]);
        await using var connection = await Db.DataSource.OpenConnectionAsync();
        // Eight days old: 30 delivered, 10 dead, 10 still pending (a re-send keeps them); then 6,000 recent
        // delivered messages, each with its attempt, as the table fills in time order.
        await connection.ExecuteAsync("""
            insert into webhook_messages (id, subscription_id, type, subject_id, payload, created_at, status)
            select gen_random_uuid(), @Subscription, 'reservation.held', gen_random_uuid(), '{}'::jsonb,
                   clock_timestamp() - interval '8 days', case when n <= 30 then 'delivered' when n <= 40 then 'dead' else 'pending' end
            from generate_series(1, 50) n;
            insert into webhook_attempts (message_id, subscription_id, attempt, started_at, duration_ms, outcome, status_code)
            select id, subscription_id, 1, created_at, 5, 'delivered', 200 from webhook_messages;
            insert into webhook_messages (id, subscription_id, type, subject_id, payload, status)
            select gen_random_uuid(), @Subscription, 'reservation.held', gen_random_uuid(), jsonb_build_object('filler', repeat('x', 200)), 'delivered'
            from generate_series(1, 6000);
            insert into webhook_attempts (message_id, subscription_id, attempt, started_at, duration_ms, outcome, status_code)
            select id, subscription_id, 1, clock_timestamp(), 5, 'delivered', 200 from webhook_messages where created_at > clock_timestamp() - interval '1 day';
            """, new { Subscription = subscription });

        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await connection.ExecuteAsync("delete from pg_statistic where starelid in ('webhook_messages'::regclass, 'webhook_attempts'::regclass)", transaction: transaction);
            await connection.ExecuteAsync(WebhookStore.IndexedSettings, transaction: transaction);
            var plan = JsonDocument.Parse(await connection.ExecuteScalarAsync<string>("explain (analyze, format json) " + WebhookStore.CleanupSql,
                new { Retention = TimeSpan.FromDays(7), Limit = 10_000 }, transaction) ?? "").RootElement[0].GetProperty("Plan");
            Assert.True(RowsRead(plan, "webhook_messages") < 3000, $"{RowsRead(plan, "webhook_messages")} of 6,050 messages read: {plan}");
            Assert.True(RowsRead(plan, "webhook_attempts") < 3000, $"{RowsRead(plan, "webhook_attempts")} of 6,050 attempts read: {plan}");
            await transaction.RollbackAsync();
        }

        var store = Store;
        Assert.Equal(40, await store.DeleteOldMessagesAsync(TimeSpan.FromDays(7), 10_000, CancellationToken.None));
        Assert.Equal(0, await store.DeleteOldMessagesAsync(TimeSpan.FromDays(7), 10_000, CancellationToken.None));
        Assert.Equal(6010, await CountAsync("select count(*) from webhook_messages"));
        Assert.Equal(10, await CountAsync("select count(*) from webhook_messages where created_at < clock_timestamp() - interval '7 days'"));
        Assert.Equal(6000, await CountAsync("select count(*) from webhook_attempts"));
    }

    [Fact]
    public async Task Claims_and_records_are_never_jit_compiled_whatever_their_estimated_cost()
    {
        // With a large backlog both statements are estimated past jit_above_cost; compiled, a claim of 200 messages
        // that ran in 2-17 ms spent 50-750 ms more compiling itself, every round. Here every plan passes it, and
        // auto_explain sends each statement's plan, with its JIT summary when there is one, to this client.
        var notices = new NoticeLog();
        var builder = new Npgsql.NpgsqlDataSourceBuilder(new Npgsql.NpgsqlConnectionStringBuilder(Db.DirectConnectionString)
        {
            Options = "-c jit_above_cost=0 -c session_preload_libraries=auto_explain -c auto_explain.log_min_duration=0 -c auto_explain.log_level=notice",
        }.ConnectionString);
        builder.UseLoggerFactory(LoggerFactory.Create(logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(notices)));
        await using var dataSource = builder.Build();
        var store = new WebhookStore(new Database(dataSource, NullLogger<Database>.Instance));
        await SubscribeAsync(["reservation.held"]);
        var e = await NewEventAsync(10);
        await HoldAsync(e.Id);

        await using (var connection = await dataSource.OpenConnectionAsync())
        {
            Assert.True(await connection.ExecuteScalarAsync<bool>("select pg_jit_available()"), "This server has no JIT: the test would prove nothing.");
            await connection.ExecuteScalarAsync<long>("select count(*) from webhook_messages");
        }
        Assert.Contains(notices, n => n.Contains("count(*) from webhook_messages", StringComparison.Ordinal) && n.Contains("JIT:", StringComparison.Ordinal));

        var claimed = Assert.Single(await store.ClaimAsync(200, TimeSpan.FromMinutes(1), CancellationToken.None));
        await store.RecordAsync([new WebhookAttemptResult(claimed.Id, claimed.Attempts, WebhookAttemptOutcome.Delivered, DateTime.UtcNow, 5, 200, null, null, TimeSpan.Zero)],
            TimeSpan.FromDays(1), TimeSpan.FromDays(1), CancellationToken.None);
        Assert.Equal(0, await PendingAsync());
        var plans = notices.Where(n => n.Contains("with due as", StringComparison.Ordinal) || n.Contains("unnest(", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, plans.Count);
        Assert.All(plans, p => Assert.DoesNotContain("JIT:", p));
    }

    [Fact]
    public async Task A_warm_connection_plans_nothing_for_a_batched_hold_and_its_outbox_row()
    {
        // Every hold batch fires the webhook triggers of the reservations' insert and the event's update, and each
        // asks whether anyone is subscribed. As SQL functions those checks were planned again in every transaction,
        // subscriber or not. With log_planner_stats every plan made on the connection is reported to this client.
        var notices = new NoticeLog();
        var builder = new Npgsql.NpgsqlDataSourceBuilder(new Npgsql.NpgsqlConnectionStringBuilder(Db.DirectConnectionString)
        {
            MaxPoolSize = 1,
            Options = "-c log_planner_stats=on -c client_min_messages=log",
        }.ConnectionString);
        builder.UseLoggerFactory(LoggerFactory.Create(logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(notices)));
        await using var dataSource = builder.Build();
        var engine = new ReservationEngine(new Database(dataSource, NullLogger<Database>.Instance), NullLogger<ReservationEngine>.Instance);
        var combiner = new HoldCombiner(engine, new BatchOptions(), NullLogger<HoldCombiner>.Instance);
        await SubscribeAsync(["reservation.held", "event.sold_out"]);
        var e = await NewEventAsync(100);
        var users = new List<Guid>();
        for (var i = 0; i < 14; i++)
        {
            users.Add(await NewUserAsync());
        }

        int Plans() => notices.Count(n => n.Contains("PLANNER STATISTICS", StringComparison.Ordinal));
        // Warm: the batch statement prepared, its generic plan chosen, the triggers' queries cached.
        foreach (var user in users.SkipLast(3))
        {
            Assert.Equal(HoldOutcome.Held, (await combiner.HoldAsync(new HoldRequest(user, e.Id, 1), CancellationToken.None)).Outcome);
        }
        Assert.True(Plans() > 0, "No plan was reported: the test would prove nothing.");
        // Three more, each counted alone. A cached plan is made again once after an invalidation (an autovacuum
        // ANALYZE of a table it reads may land between two holds), so one of them may plan; checks planned in every
        // transaction would make every one of them plan.
        var plansPerHold = new List<int>();
        foreach (var user in users.TakeLast(3))
        {
            var before = Plans();
            Assert.Equal(HoldOutcome.Held, (await combiner.HoldAsync(new HoldRequest(user, e.Id, 1), CancellationToken.None)).Outcome);
            plansPerHold.Add(Plans() - before);
        }

        Assert.True(plansPerHold.Count(p => p == 0) >= 2, $"Plans made by each of three warm holds: {string.Join(", ", plansPerHold)}");
        Assert.Equal(14, await CountAsync("select count(*) from webhook_messages where type = 'reservation.held'"));
    }

    /// <summary>The notices PostgreSQL sent to a data source's connections, as Npgsql logs them.</summary>
    private sealed class NoticeLog : ILoggerProvider, ILogger, IEnumerable<string>
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> _notices = new();

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var message = formatter(state, exception);
            if (message.StartsWith("Received notice", StringComparison.Ordinal))
            {
                _notices.Enqueue(message);
            }
        }

        public IEnumerator<string> GetEnumerator() => _notices.GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

        public void Dispose()
        {
        }
    }

    private static async Task<JsonElement> ExplainClaimAsync(Npgsql.NpgsqlConnection connection, Npgsql.NpgsqlTransaction transaction, int limit) =>
        JsonDocument.Parse(await connection.ExecuteScalarAsync<string>(
            "explain (analyze, format json) " + WebhookStore.ClaimSql, new { Limit = limit, Lease = TimeSpan.FromMinutes(1) }, transaction) ?? "")
            .RootElement[0].GetProperty("Plan");

    /// <summary>Rows a plan read from a table: those its scans returned and those their filters dropped, over every loop.</summary>
    private static double RowsRead(JsonElement plan, string table) =>
        Nodes(plan).Where(n => n.TryGetProperty("Relation Name", out var name) && name.GetString() == table)
            .Sum(n => (n.GetProperty("Actual Rows").GetDouble() + (n.TryGetProperty("Rows Removed by Filter", out var removed) ? removed.GetDouble() : 0))
                * n.GetProperty("Actual Loops").GetDouble());

    private static IEnumerable<JsonElement> Nodes(JsonElement node) =>
        node.TryGetProperty("Plans", out var children) ? children.EnumerateArray().SelectMany(Nodes).Prepend(node) : [node];

    [Fact]
    public async Task Every_reservation_change_arrives_signed_with_the_reservation_as_the_api_shows_it()
    {
        var (_, secret) = await SubscribeAsync([.. WebhookEventTypes.All]);
        // Two types and a currency of its own: the lines and the currency are read at the claim, not stored with the row.
        var e = await Events.CreateAsync(new NewEvent($"Event {Guid.NewGuid():N}", 10, Currency: "CHF",
            TicketTypes: [new NewTicketType("Standing", 4500, 6), new NewTicketType("Seated", 7900, 4)]), CancellationToken.None);
        var user = await NewUserAsync();
        var typed = await Engine.HoldAsync(new HoldRequest(user, e.Id, [new HoldLine(e.TicketTypes[0].Id, 1), new HoldLine(e.TicketTypes[1].Id, 2)]), CancellationToken.None);
        Assert.Equal(HoldOutcome.Held, typed.Outcome);
        var confirmed = typed.Reservation!.Id;
        Assert.Equal(ChangeOutcome.Changed, (await Engine.ConfirmAsync(user, confirmed, CancellationToken.None)).Outcome);
        Assert.Equal(ChangeOutcome.Changed, (await Engine.CancelAsync(confirmed, CancellationToken.None)).Outcome);
        async Task<Guid> HoldStandingAsync() =>
            (await Engine.HoldAsync(new HoldRequest(user, e.Id, [new HoldLine(e.TicketTypes[0].Id, 1)]), CancellationToken.None)).Reservation!.Id;
        var released = await HoldStandingAsync();
        Assert.Equal(ChangeOutcome.Changed, (await Engine.ReleaseAsync(user, released, CancellationToken.None)).Outcome);
        var expired = await HoldStandingAsync();
        await ExpireAsync(expired);
        Assert.Equal(1, (await Engine.ReleaseExpiredHoldsAsync(CancellationToken.None)).Holds);

        using var delivery = Delivery();
        await DeliverAllAsync(delivery);

        var received = _receiver.Delivered;
        Assert.All(received, w => Assert.True(WebhookReceiver.Verify(secret, w), $"Bad signature on {w.Body}"));
        Assert.Equal(received.Count, received.Select(w => w.Id).Distinct().Count());
        string[] Types(Guid id) => received.Select(Json).Where(j => j.GetProperty("data").GetProperty("id").GetGuid() == id)
            .Select(j => j.GetProperty("type").GetString()!).ToArray();
        Assert.Equal(["reservation.held", "reservation.confirmed", "reservation.cancelled"], Types(confirmed));
        Assert.Equal(["reservation.held", "reservation.released"], Types(released));
        Assert.Equal(["reservation.held", "reservation.expired"], Types(expired));

        // The data is the API's own representation of the row as it committed.
        var last = received.Select(Json).Single(j => j.GetProperty("type").GetString() == "reservation.cancelled");
        var now = await Engine.GetAsync(confirmed, null, CancellationToken.None);
        Assert.Equal(JsonSerializer.Serialize(ReservationResponse.From(now!), ApiJson.Options), last.GetProperty("data").GetRawText());
        Assert.True(last.GetProperty("timestamp").GetDateTime() > DateTime.UtcNow.AddMinutes(-1));
    }

    [Fact]
    public async Task Without_a_subscriber_nothing_is_written_and_held_is_written_only_for_those_who_ask()
    {
        var e = await NewEventAsync(10);
        var user = await NewUserAsync();
        var a = await HoldAsync(e.Id, user);
        await Engine.ConfirmAsync(user, a, CancellationToken.None);
        Assert.Equal(0, await CountAsync("select count(*) from webhook_messages"));

        await SubscribeAsync([WebhookEventTypes.ReservationConfirmed]);
        var b = await HoldAsync(e.Id, user);
        Assert.Equal(0, await CountAsync("select count(*) from webhook_messages"));
        await Engine.ConfirmAsync(user, b, CancellationToken.None);
        Assert.Equal(1, await CountAsync("select count(*) from webhook_messages where type = 'reservation.confirmed' and subject_id = @B", new { B = b }));

        // A disabled subscription gets nothing either.
        await using var connection = await Db.DataSource.OpenConnectionAsync();
        await connection.ExecuteAsync("update webhook_subscriptions set enabled = false");
        var c = await HoldAsync(e.Id, user);
        await Engine.ConfirmAsync(user, c, CancellationToken.None);
        Assert.Equal(1, await CountAsync("select count(*) from webhook_messages"));
    }

    [Fact]
    public async Task Batched_holds_and_confirms_write_one_message_per_reservation_and_subscription()
    {
        await SubscribeAsync([WebhookEventTypes.ReservationHeld, WebhookEventTypes.ReservationConfirmed]);
        await SubscribeAsync([WebhookEventTypes.ReservationHeld]);
        var e = await NewEventAsync(1000);
        var combiner = new HoldCombiner(Engine, new BatchOptions { MaxBatchSize = 16 }, NullLogger<HoldCombiner>.Instance);
        var users = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => NewUserAsync()));
        var holds = await Task.WhenAll(users.Select(u => combiner.HoldAsync(new HoldRequest(u, e.Id, 2), CancellationToken.None)));
        Assert.All(holds, h => Assert.Equal(HoldOutcome.Held, h.Outcome));
        var confirms = await Task.WhenAll(holds.Zip(users).Select(p => combiner.ConfirmAsync(p.Second, p.First.Reservation!.Id, CancellationToken.None)));
        Assert.All(confirms, c => Assert.Equal(ChangeOutcome.Changed, c.Outcome));

        Assert.Equal(80, await CountAsync("select count(*) from webhook_messages where type = 'reservation.held'"));
        Assert.Equal(40, await CountAsync("select count(*) from webhook_messages where type = 'reservation.confirmed'"));
        Assert.Equal(40, await CountAsync("select count(distinct subject_id) from webhook_messages"));
        Assert.Equal(0, await CountAsync("select count(*) from (select subscription_id, subject_id, type from webhook_messages group by 1, 2, 3 having count(*) > 1) d"));
        // Ids are version 7 UUIDs, their millisecond prefix in write order: new primary-key entries go to the last pages.
        Assert.Equal(0, await CountAsync("select count(*) from webhook_messages where substr(id::text, 15, 1) <> '7'"));
        Assert.Equal(0, await CountAsync("""
            select count(*)
            from (select left(id::text, 13) as ms, lag(left(id::text, 13)) over (order by seq) as earlier from webhook_messages) o
            where o.ms < o.earlier
            """));
    }

    [Fact]
    public async Task An_admin_change_emits_event_updated_and_the_last_seat_emits_sold_out_once()
    {
        await SubscribeAsync([WebhookEventTypes.EventUpdated, WebhookEventTypes.EventSoldOut]);
        var e = await NewEventAsync(2);
        var user = await NewUserAsync();
        await HoldAsync(e.Id, user);
        Assert.Equal(0, await CountAsync("select count(*) from webhook_messages"));
        var last = await HoldAsync(e.Id, user);
        Assert.Equal(1, await CountAsync("select count(*) from webhook_messages where type = 'event.sold_out' and subject_id = @Id", new { e.Id }));
        await Engine.ConfirmAsync(user, last, CancellationToken.None);
        Assert.Equal(1, await CountAsync("select count(*) from webhook_messages"));

        Assert.Equal(EventUpdateOutcome.Updated, (await Events.UpdateAsync(e.Id, new EventChanges { Name = "Renamed" }, CancellationToken.None)).Outcome);
        Assert.Equal(EventUpdateOutcome.Updated, (await Events.UpdateAsync(e.Id, new EventChanges { Name = "Renamed" }, CancellationToken.None)).Outcome);
        Assert.Equal(1, await CountAsync("select count(*) from webhook_messages where type = 'event.updated'"));

        using var delivery = Delivery();
        await DeliverAllAsync(delivery);
        var updated = _receiver.Delivered.Select(Json).Single(j => j.GetProperty("type").GetString() == "event.updated");
        Assert.Equal("Renamed", updated.GetProperty("data").GetProperty("name").GetString());
        Assert.Equal(0, updated.GetProperty("data").GetProperty("available").GetInt32());
    }

    [Fact]
    public async Task Event_messages_carry_the_event_as_the_api_shows_it_ticket_types_included()
    {
        await SubscribeAsync([WebhookEventTypes.EventUpdated, WebhookEventTypes.EventSoldOut]);
        var e = await Events.CreateAsync(new NewEvent($"Event {Guid.NewGuid():N}", 3, Currency: "CHF",
            TicketTypes: [new NewTicketType("Standing", 4500, 2), new NewTicketType("Seated", 7900, 1)]), CancellationToken.None);
        var renamed = (await Events.UpdateAsync(e.Id, new EventChanges { Name = "Renamed" }, CancellationToken.None)).Event!;
        var user = await NewUserAsync();
        var hold = await Engine.HoldAsync(new HoldRequest(user, e.Id, [new HoldLine(e.TicketTypes[0].Id, 2), new HoldLine(e.TicketTypes[1].Id, 1)]), CancellationToken.None);
        Assert.Equal(HoldOutcome.Held, hold.Outcome);
        var soldOut = (await Events.GetAsync(e.Id, CancellationToken.None))!;

        using var delivery = Delivery();
        await DeliverAllAsync(delivery);

        // Each as the API showed the event once its change committed: the types' counters moved with the event's.
        var received = _receiver.Delivered.Select(Json).ToList();
        Assert.Equal(["event.updated", "event.sold_out"], received.Select(j => j.GetProperty("type").GetString()!).ToArray());
        Assert.Equal(JsonSerializer.Serialize(EventResponse.From(renamed), ApiJson.Options), received[0].GetProperty("data").GetRawText());
        Assert.Equal(JsonSerializer.Serialize(EventResponse.From(soldOut), ApiJson.Options), received[1].GetProperty("data").GetRawText());
        Assert.Equal([0, 0], received[1].GetProperty("data").GetProperty("ticketTypes").EnumerateArray().Select(t => t.GetProperty("available").GetInt32()).ToArray());
    }

    [Fact]
    public async Task A_ticket_type_added_or_changed_is_an_event_updated_and_the_same_change_again_is_not()
    {
        await SubscribeAsync([WebhookEventTypes.EventUpdated]);
        var types = new TicketTypeStore(Db.Database);
        var e = await NewEventAsync(10);
        Task<long> UpdatesAsync() => CountAsync("select count(*) from webhook_messages where type = 'event.updated' and subject_id = @Id", new { e.Id });

        var vip = await types.CreateAsync(e.Id, new NewTicketType("VIP", 12000, 2), CancellationToken.None);
        Assert.Equal(TicketTypeOutcome.Done, vip.Outcome);
        Assert.Equal(1, await UpdatesAsync());
        Assert.Equal(TicketTypeOutcome.Done, (await types.UpdateAsync(e.Id, vip.TicketType!.Id, new TicketTypeChanges { Price = 15000 }, CancellationToken.None)).Outcome);
        Assert.Equal(2, await UpdatesAsync());
        // Applied again, the same change changes nothing: no message, and the event's updatedAt stays.
        var before = (await Events.GetAsync(e.Id, CancellationToken.None))!;
        Assert.Equal(TicketTypeOutcome.Done, (await types.UpdateAsync(e.Id, vip.TicketType!.Id, new TicketTypeChanges { Price = 15000 }, CancellationToken.None)).Outcome);
        Assert.Equal(EventUpdateOutcome.Updated, (await Events.UpdateAsync(e.Id, new EventChanges { Capacity = 10 }, CancellationToken.None)).Outcome);
        Assert.Equal(2, await UpdatesAsync());
        Assert.Equal(before.UpdatedAt, (await Events.GetAsync(e.Id, CancellationToken.None))!.UpdatedAt);
        // Refused changes send nothing either.
        Assert.Equal(TicketTypeOutcome.CapacityBelowCommitted, (await types.UpdateAsync(e.Id, vip.TicketType!.Id, new TicketTypeChanges { Capacity = -1 }, CancellationToken.None)).Outcome);
        Assert.Equal(2, await UpdatesAsync());

        using var delivery = Delivery();
        await DeliverAllAsync(delivery);
        var last = _receiver.Delivered.Select(Json).Last();
        Assert.Equal(JsonSerializer.Serialize(EventResponse.From(before), ApiJson.Options), last.GetProperty("data").GetRawText());
        Assert.Equal(15000, last.GetProperty("data").GetProperty("ticketTypes").EnumerateArray().Single(t => t.GetProperty("name").GetString() == "VIP").GetProperty("price").GetInt32());
    }

    [Fact]
    public async Task A_rolled_back_change_emits_nothing()
    {
        await SubscribeAsync([WebhookEventTypes.ReservationConfirmed, WebhookEventTypes.ReservationHeld]);
        var e = await NewEventAsync(5);
        var before = await CountAsync("select count(*) from webhook_messages");
        var id = await HoldAsync(e.Id);
        Assert.Equal(before + 1, await CountAsync("select count(*) from webhook_messages"));

        await using (var connection = await Db.DataSource.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await connection.ExecuteAsync("update reservations set status = 'CONFIRMED', confirmed_at = now() where id = @Id", new { Id = id }, transaction);
            // The trigger wrote the message inside the transaction ...
            Assert.Equal(before + 2, await connection.ExecuteScalarAsync<long>("select count(*) from webhook_messages", transaction: transaction));
            await transaction.RollbackAsync();
        }
        // ... and it went with the rollback.
        Assert.Equal(before + 1, await CountAsync("select count(*) from webhook_messages"));
        using var delivery = Delivery();
        await DeliverAllAsync(delivery);
        Assert.Equal(["reservation.held"], _receiver.Delivered.Select(w => Json(w).GetProperty("type").GetString()!).ToArray());
    }

    [Fact]
    public async Task A_whole_hold_batch_refused_after_writing_its_rows_leaves_no_message()
    {
        // The whole-batch statement writes its holds (and their reservation.held messages) before it takes the
        // event's lock and decides; a batch the decision refuses must take its messages with it.
        await SubscribeAsync([WebhookEventTypes.ReservationHeld]);
        var e = await NewEventAsync(3);
        var before = await CountAsync("select count(*) from webhook_messages");
        HoldRequest[] requests = [new(await NewUserAsync(), e.Id, 2), new(await NewUserAsync(), e.Id, 2)];

        Assert.Null(await Engine.TryHoldAllAsync(requests, CancellationToken.None));
        Assert.Equal(before, await CountAsync("select count(*) from webhook_messages"));

        // Decided one by one: the first is held, the second finds one seat left; one message, for the hold made.
        var (results, whole) = await Engine.HoldBatchAsync(requests, CancellationToken.None);
        Assert.False(whole);
        Assert.Equal([HoldOutcome.Held, HoldOutcome.SoldOut], results.Select(r => r.Outcome));
        Assert.Equal(before + 1, await CountAsync("select count(*) from webhook_messages"));
    }

    [Fact]
    public async Task A_failing_receiver_gets_retries_with_the_same_id_until_it_recovers()
    {
        var (subscription, secret) = await SubscribeAsync([WebhookEventTypes.ReservationHeld]);
        _receiver.Answer = (n, _) => n <= 2 ? 500 : 200;
        await HoldAsync((await NewEventAsync(5)).Id);

        using var delivery = Delivery();
        await DeliverAllAsync(delivery);

        var all = _receiver.Received.ToList();
        Assert.Equal([500, 500, 200], all.Select(w => w.Answered).ToArray());
        Assert.Single(all.Select(w => w.Id).Distinct());
        Assert.All(all, w => Assert.True(WebhookReceiver.Verify(secret, w)));
        var attempts = await Store.ListAttemptsAsync(subscription, null, 10, CancellationToken.None);
        Assert.Equal(["delivered", "failed", "failed"], attempts.Select(a => a.Outcome).ToArray());
        Assert.Equal([3, 2, 1], attempts.Select(a => a.Attempt).ToArray());
        Assert.Equal(500, attempts[1].StatusCode);
        // The error body is kept only up to the cap.
        Assert.Equal(WebhookOptions.MaxResponseBodyBytes, attempts[1].ResponseBody!.Length);
        Assert.Null((await Store.GetAsync(subscription, CancellationToken.None))!.FailingSince);
    }

    [Fact]
    public async Task A_receiver_that_hangs_times_out_and_the_message_is_retried()
    {
        var (subscription, _) = await SubscribeAsync([WebhookEventTypes.ReservationHeld]);
        _receiver.Answer = (n, _) => n == 1 ? -1 : 200;
        await HoldAsync((await NewEventAsync(5)).Id);

        using var delivery = Delivery(Options(o => o.ResponseTimeout = TimeSpan.FromMilliseconds(500)));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await delivery.RunOnceAsync(CancellationToken.None);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"The hung attempt took {clock.Elapsed}");
        var first = Assert.Single(await Store.ListAttemptsAsync(subscription, null, 10, CancellationToken.None));
        Assert.Equal("failed", first.Outcome);
        Assert.Null(first.StatusCode);
        Assert.Contains("No complete answer", first.Error);

        await DeliverAllAsync(delivery);
        Assert.Single(_receiver.Delivered);
    }

    [Fact]
    public async Task A_later_message_of_a_reservation_waits_while_an_earlier_one_is_retrying()
    {
        await SubscribeAsync([WebhookEventTypes.ReservationHeld, WebhookEventTypes.ReservationConfirmed]);
        // The first held message fails three times; the confirm is committed meanwhile and must not overtake it.
        var e = await NewEventAsync(5);
        var user = await NewUserAsync();
        var id = await HoldAsync(e.Id, user);
        var failuresLeft = 3;
        _receiver.Answer = (_, w) => Json(w).GetProperty("type").GetString() == "reservation.held"
            && Json(w).GetProperty("data").GetProperty("id").GetGuid() == id && Interlocked.Decrement(ref failuresLeft) >= 0 ? 503 : 200;
        await Engine.ConfirmAsync(user, id, CancellationToken.None);
        var other = await HoldAsync(e.Id, user);

        using var delivery = Delivery();
        await DeliverAllAsync(delivery);

        var ofReservation = _receiver.Received.Where(w => Json(w).GetProperty("data").GetProperty("id").GetGuid() == id).ToList();
        Assert.Equal(["reservation.held", "reservation.held", "reservation.held", "reservation.held", "reservation.confirmed"],
            ofReservation.Select(w => Json(w).GetProperty("type").GetString()!).ToArray());
        Assert.Equal([503, 503, 503, 200, 200], ofReservation.Select(w => w.Answered).ToArray());
        // Another reservation's message was not held up by this one's retries.
        Assert.Contains(_receiver.Delivered, w => Json(w).GetProperty("data").GetProperty("id").GetGuid() == other);
    }

    [Fact]
    public async Task A_message_re_sent_while_an_attempt_is_in_flight_goes_again()
    {
        var (subscription, _) = await SubscribeAsync([WebhookEventTypes.ReservationHeld]);
        var reservation = await HoldAsync((await NewEventAsync(5)).Id);
        var inFlight = Assert.Single(await Store.ClaimAsync(200, TimeSpan.FromMinutes(1), CancellationToken.None));

        // An admin re-sends it while that attempt is being sent; the attempt then succeeds and its round records it.
        Assert.True(await Store.ResendAsync(subscription, inFlight.Id, CancellationToken.None));
        var summary = await Store.RecordAsync([new WebhookAttemptResult(inFlight.Id, inFlight.Attempts, WebhookAttemptOutcome.Delivered,
            DateTime.UtcNow, 5, 200, null, null, TimeSpan.Zero)], TimeSpan.FromDays(1), TimeSpan.FromDays(1), CancellationToken.None);

        // The re-send stands: the outcome of the attempt that lost its lease is ignored, and the message goes again.
        Assert.Equal(0, summary.Delivered);
        using var delivery = Delivery();
        await DeliverAllAsync(delivery);
        var sent = Assert.Single(_receiver.Delivered);
        Assert.Equal(inFlight.Id.ToString(), sent.Id);
        Assert.Equal(reservation, Json(sent).GetProperty("data").GetProperty("id").GetGuid());
    }

    [Fact]
    public async Task A_message_committed_before_a_crash_is_delivered_by_the_next_process()
    {
        await SubscribeAsync([WebhookEventTypes.ReservationHeld]);
        var e = await NewEventAsync(5);
        var committedWithNoLoopRunning = await HoldAsync(e.Id);
        var claimedByADeadLoop = await HoldAsync(e.Id);
        // A loop claimed the second message and died before sending or recording anything: its lease runs out.
        await using (var connection = await Db.DataSource.OpenConnectionAsync())
        {
            await connection.ExecuteAsync("update webhook_messages set locked_until = clock_timestamp() + interval '1 minute', attempts = 1 where subject_id = @Id",
                new { Id = claimedByADeadLoop });
        }
        using (var restarted = Delivery())
        {
            await restarted.RunOnceAsync(CancellationToken.None);
            Assert.Single(_receiver.Delivered);
            // The lease runs out (moved to the past here rather than waited for: a slow round must not outlast it).
            await using (var connection = await Db.DataSource.OpenConnectionAsync())
            {
                await connection.ExecuteAsync("update webhook_messages set locked_until = clock_timestamp() - interval '1 second' where subject_id = @Id",
                    new { Id = claimedByADeadLoop });
            }
            await DeliverAllAsync(restarted);
        }
        var ids = _receiver.Delivered.Select(w => Json(w).GetProperty("data").GetProperty("id").GetGuid()).ToHashSet();
        Assert.Equal(new HashSet<Guid> { committedWithNoLoopRunning, claimedByADeadLoop }, ids);
    }

    [Fact]
    public async Task Two_delivery_loops_at_once_send_each_attempt_once()
    {
        await SubscribeAsync([WebhookEventTypes.ReservationHeld]);
        var e = await NewEventAsync(1000);
        var user = await NewUserAsync();
        var combiner = new HoldCombiner(Engine, new BatchOptions { MaxBatchSize = 32 }, NullLogger<HoldCombiner>.Instance);
        var users = await Task.WhenAll(Enumerable.Range(0, 150).Select(_ => NewUserAsync()));
        await Task.WhenAll(users.Select(u => combiner.HoldAsync(new HoldRequest(u, e.Id, 1), CancellationToken.None)));
        Assert.Equal(150, await PendingAsync());

        using var a = Delivery(Options(o => o.BatchSize = 20));
        using var b = Delivery(Options(o => o.BatchSize = 20));
        async Task RunAsync(WebhookDelivery d)
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (await PendingAsync() > 0 && DateTime.UtcNow < deadline)
            {
                await d.RunOnceAsync(CancellationToken.None);
            }
        }
        await Task.WhenAll(RunAsync(a), RunAsync(b), RunAsync(a));

        Assert.Equal(0, await PendingAsync());
        Assert.Equal(150, _receiver.Received.Count);
        Assert.Equal(150, _receiver.Received.Select(w => w.Id).Distinct().Count());
        Assert.Equal(150, await CountAsync("select count(*) from webhook_attempts"));
        Assert.Equal(0, await CountAsync("select count(*) from webhook_messages where attempts <> 1"));
    }

    [Fact]
    public async Task Concurrent_rounds_keep_delivering_while_one_round_waits_for_a_hung_receiver()
    {
        await SubscribeAsync([WebhookEventTypes.ReservationHeld]);
        var e = await NewEventAsync(200);
        var combiner = new HoldCombiner(Engine, new BatchOptions { MaxBatchSize = 64 }, NullLogger<HoldCombiner>.Instance);
        var users = await Task.WhenAll(Enumerable.Range(0, 120).Select(_ => NewUserAsync()));
        await Task.WhenAll(users.Select(u => combiner.HoldAsync(new HoldRequest(u, e.Id, 1), CancellationToken.None)));
        _receiver.Answer = (n, _) => n == 1 ? -1 : 200;

        // A round waits for its slowest request: with one round at a time, the other 110 messages would wait the
        // hung one's 4 s timeout behind it.
        // The hung message's retry is an hour away, so it is not sent again within this drain.
        using var delivery = Delivery(Options(o => (o.BatchSize, o.MaxConcurrentDeliveries, o.ConcurrentRounds, o.ResponseTimeout, o.RetryBaseDelay, o.MaxRetryDelay) =
            (10, 10, 4, TimeSpan.FromSeconds(4), TimeSpan.FromHours(1), TimeSpan.FromHours(1))));
        await delivery.DrainAsync(TimeSpan.FromSeconds(30), CancellationToken.None);

        var hung = _receiver.Received.Single(w => w.Answered == 0);
        var meanwhile = _receiver.Delivered.Count(w => w.ArrivedAt < hung.ArrivedAt + TimeSpan.FromSeconds(3));
        Assert.True(meanwhile >= 100, $"{meanwhile} of 119 delivered while the hung request waited");
        Assert.Equal(119, _receiver.Delivered.Select(w => w.Id).Distinct().Count());
        Assert.Equal(119, _receiver.Delivered.Count);
        Assert.Equal(1, await PendingAsync()); // the hung one, due again after its retry delay
    }

    [Fact]
    public async Task Deleting_a_subscription_waits_for_a_transaction_writing_its_messages_and_leaves_none_behind()
    {
        var (subscription, _) = await SubscribeAsync([WebhookEventTypes.EventUpdated]);
        var e = await NewEventAsync(5);
        await using var writer = await Db.DataSource.OpenConnectionAsync();
        await writer.ExecuteAsync("update events set name = name || ' (1)' where id = @Id", new { e.Id });
        using (var delivery = Delivery())
        {
            await DeliverAllAsync(delivery);
        }
        Assert.Equal(1, await CountAsync("select count(*) from webhook_attempts where subscription_id = @Id", new { Id = subscription }));

        // A change whose trigger wrote a message for the subscription, not yet committed, while it is deleted.
        await using var transaction = await writer.BeginTransactionAsync();
        await writer.ExecuteAsync("update events set name = name || ' (2)' where id = @Id", new { e.Id }, transaction);
        var deleting = Store.DeleteAsync(subscription, CancellationToken.None);
        await Task.Delay(500);
        Assert.False(deleting.IsCompleted, "The delete did not wait for the transaction writing the subscription's message.");
        await transaction.CommitAsync();
        Assert.True(await deleting);

        Assert.Equal(0, await CountAsync("select count(*) from webhook_messages where subscription_id = @Id", new { Id = subscription }));
        Assert.Equal(0, await CountAsync("select count(*) from webhook_attempts where subscription_id = @Id", new { Id = subscription }));
        Assert.False(await Store.DeleteAsync(subscription, CancellationToken.None));
        // Later changes find no subscription to write for.
        await writer.ExecuteAsync("update events set name = name || ' (3)' where id = @Id", new { e.Id });
        Assert.Equal(0, await CountAsync("select count(*) from webhook_messages"));
    }

    [Fact]
    public async Task Rounds_that_find_nothing_due_count_the_backlog_at_most_once_per_interval()
    {
        // A backlog waiting for its retries: every round finds nothing, and counting reads every pending message.
        var (subscription, _) = await SubscribeAsync(["reservation.held"]);
        await using (var connection = await Db.DataSource.OpenConnectionAsync())
        {
            await connection.ExecuteAsync("""
                insert into webhook_messages (id, subscription_id, type, subject_id, payload, next_attempt_at)
                select gen_random_uuid(), @Subscription, 'reservation.held', gen_random_uuid(), '{}'::jsonb, clock_timestamp() + interval '1 hour'
                from generate_series(1, 100)
                """, new { Subscription = subscription });
        }
        using var delivery = Delivery(Options(o => o.ConcurrentRounds = 4));
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(0, await delivery.DrainAsync(TimeSpan.FromSeconds(10), CancellationToken.None));
        }
        Assert.Equal(1, delivery.BacklogCounts);
    }

    [Fact]
    public async Task Redirects_are_not_followed()
    {
        var (subscription, _) = await SubscribeAsync([WebhookEventTypes.ReservationHeld]);
        _receiver.Answer = (_, _) => 307;
        await HoldAsync((await NewEventAsync(5)).Id);
        using var delivery = Delivery();
        await delivery.RunOnceAsync(CancellationToken.None);
        Assert.Single(_receiver.Received);
        Assert.Equal(307, Assert.Single(await Store.ListAttemptsAsync(subscription, null, 10, CancellationToken.None)).StatusCode);
    }

    [Fact]
    public async Task A_name_that_resolves_to_loopback_at_delivery_is_refused_and_a_checked_address_is_connected_to()
    {
        var port = _receiver.Url.Port;
        var url = $"http://rebind.example:{port}/hooks/";
        var (subscription, _) = await SubscribeAsync([WebhookEventTypes.ReservationHeld], url);
        await HoldAsync((await NewEventAsync(5)).Id);

        // Saved while the name pointed at a public address; now it answers 127.0.0.1.
        var strict = Options(o => o.AllowLoopbackTargets = false);
        var resolveCalls = 0;
        Task<IPAddress[]> Rebinding(string host, CancellationToken _) =>
            Task.FromResult(Interlocked.Increment(ref resolveCalls) == 1 ? [IPAddress.Parse("93.184.215.14")] : new[] { IPAddress.Loopback });
        var check = await new WebhookTargets(Microsoft.Extensions.Options.Options.Create(strict)) { Resolve = Rebinding }.CheckAsync(url, CancellationToken.None);
        Assert.Equal(WebhookUrlProblem.None, check.Problem);

        using (var delivery = Delivery(strict, Rebinding))
        {
            await delivery.RunOnceAsync(CancellationToken.None);
        }
        Assert.Empty(_receiver.Received);
        var refused = Assert.Single(await Store.ListAttemptsAsync(subscription, null, 10, CancellationToken.None));
        Assert.Contains("resolves only to loopback, private", refused.Error);

        // Where loopback is allowed (tests), the connection goes to the resolved and checked address.
        await using (var connection = await Db.DataSource.OpenConnectionAsync())
        {
            await connection.ExecuteAsync("update webhook_messages set next_attempt_at = clock_timestamp()");
        }
        using (var delivery = Delivery(Options(), (_, _) => Task.FromResult(new[] { IPAddress.Loopback })))
        {
            await DeliverAllAsync(delivery);
        }
        Assert.Single(_receiver.Delivered);
    }

    [Theory]
    [InlineData("https://10.1.2.3/x", WebhookUrlProblem.Refused)]
    [InlineData("https://172.20.0.1/x", WebhookUrlProblem.Refused)]
    [InlineData("https://192.168.1.1/x", WebhookUrlProblem.Refused)]
    [InlineData("https://169.254.169.254/latest/meta-data", WebhookUrlProblem.Refused)]
    [InlineData("https://168.63.129.16/", WebhookUrlProblem.Refused)]
    [InlineData("https://100.64.0.1/", WebhookUrlProblem.Refused)]
    [InlineData("https://0.0.0.0/", WebhookUrlProblem.Refused)]
    [InlineData("https://127.0.0.1/", WebhookUrlProblem.Refused)]
    [InlineData("https://[::1]/", WebhookUrlProblem.Refused)]
    [InlineData("https://[fd00:ec2::254]/", WebhookUrlProblem.Refused)]
    [InlineData("https://[fe80::1]/", WebhookUrlProblem.Refused)]
    [InlineData("https://[::ffff:10.0.0.1]/", WebhookUrlProblem.Refused)]
    [InlineData("https://[64:ff9b::a9fe:a9fe]/", WebhookUrlProblem.Refused)]
    [InlineData("http://93.184.215.14/", WebhookUrlProblem.NotHttps)]
    [InlineData("ftp://93.184.215.14/", WebhookUrlProblem.Invalid)]
    [InlineData("https://user:pass@93.184.215.14/", WebhookUrlProblem.Invalid)]
    [InlineData("https://93.184.215.14/#frag", WebhookUrlProblem.Invalid)]
    [InlineData("/relative", WebhookUrlProblem.Invalid)]
    [InlineData("https://name.invalid/", WebhookUrlProblem.Unresolvable)]
    [InlineData("https://93.184.215.14:8443/hooks?x=1", WebhookUrlProblem.None)]
    [InlineData("https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/", WebhookUrlProblem.None)]
    public async Task Targets_are_checked_when_saved(string url, WebhookUrlProblem expected)
    {
        var targets = new WebhookTargets(Microsoft.Extensions.Options.Options.Create(new WebhookOptions()))
        {
            Resolve = (host, _) => host == "name.invalid" ? throw new System.Net.Sockets.SocketException(11001) : Task.FromResult(Array.Empty<IPAddress>()),
        };
        Assert.Equal(expected, (await targets.CheckAsync(url, CancellationToken.None)).Problem);
    }

    [Fact]
    public async Task A_receiver_failing_past_the_retry_window_dead_letters_and_one_failing_past_the_limit_is_disabled()
    {
        var (subscription, _) = await SubscribeAsync([WebhookEventTypes.ReservationHeld]);
        _receiver.Answer = (_, _) => 500;
        await HoldAsync((await NewEventAsync(5)).Id);
        // The window runs from the message's commit, and a cold first attempt (connect, JIT) may take a few hundred
        // milliseconds: 2 s leave room for several retries at 100–400 ms apart however slow the first one is.
        using (var delivery = Delivery(Options(o => o.RetryWindow = TimeSpan.FromSeconds(2))))
        {
            await DeliverAllAsync(delivery);
        }
        Assert.Equal(1, await CountAsync("select count(*) from webhook_messages where status = 'dead'"));
        var attempts = await Store.ListAttemptsAsync(subscription, null, 100, CancellationToken.None);
        Assert.Equal("dead", attempts[0].Outcome);
        Assert.True(attempts.Count >= 3, $"{attempts.Count} attempts");
        Assert.All(attempts.Skip(1), a => Assert.Equal("failed", a.Outcome));
        var failing = (await Store.GetAsync(subscription, CancellationToken.None))!;
        Assert.True(failing.Enabled);
        Assert.NotNull(failing.FailingSince);

        // Re-sent while the endpoint still fails, past the disable limit: the subscription is disabled and says why.
        Assert.True(await Store.ResendAsync(subscription, attempts[0].MessageId, CancellationToken.None));
        using (var delivery = Delivery(Options(o => o.DisableAfter = TimeSpan.Zero)))
        {
            Assert.Equal(1, await delivery.RunOnceAsync(CancellationToken.None));
            var disabled = (await Store.GetAsync(subscription, CancellationToken.None))!;
            Assert.False(disabled.Enabled);
            Assert.Contains("Every delivery failed since", disabled.DisabledReason);
            // Nothing goes to a disabled subscription.
            await using (var connection = await Db.DataSource.OpenConnectionAsync())
            {
                await connection.ExecuteAsync("update webhook_messages set next_attempt_at = clock_timestamp()");
            }
            Assert.Equal(0, await delivery.RunOnceAsync(CancellationToken.None));
        }

        // Enabled again once the endpoint is fixed: the pending message is delivered, the reason gone.
        _receiver.Answer = (_, _) => 200;
        await Store.UpdateAsync(subscription, new WebhookChanges { Enabled = true }, CancellationToken.None);
        using (var delivery = Delivery())
        {
            await DeliverAllAsync(delivery);
        }
        Assert.Single(_receiver.Delivered);
        var enabled = (await Store.GetAsync(subscription, CancellationToken.None))!;
        Assert.Null(enabled.DisabledReason);
        Assert.Null(enabled.FailingSince);
    }

    [Fact]
    public async Task During_a_rotation_the_new_and_the_previous_secret_both_sign()
    {
        var (subscription, oldSecret) = await SubscribeAsync([WebhookEventTypes.ReservationHeld]);
        var secrets = new WebhookSecrets(Microsoft.Extensions.Options.Options.Create(Options()));
        var newSecret = WebhookSecrets.NewSecret();
        await Store.RotateSecretAsync(subscription, secrets.Seal(subscription, newSecret), TimeSpan.FromHours(1), CancellationToken.None);
        await HoldAsync((await NewEventAsync(5)).Id);
        using var delivery = Delivery();
        await DeliverAllAsync(delivery);
        var received = Assert.Single(_receiver.Delivered);
        Assert.True(WebhookReceiver.Verify(newSecret, received));
        Assert.True(WebhookReceiver.Verify(oldSecret, received));
        Assert.False(WebhookReceiver.Verify(WebhookSecrets.NewSecret(), received));
        Assert.Equal(2, received.Signature.Split(' ').Length);

        // Once the grace period is over only the new one signs.
        await Store.RotateSecretAsync(subscription, secrets.Seal(subscription, newSecret), TimeSpan.Zero, CancellationToken.None);
        await HoldAsync((await NewEventAsync(5)).Id);
        await DeliverAllAsync(delivery);
        Assert.Single(_receiver.Delivered[^1].Signature.Split(' '));
    }

    [Fact]
    public async Task A_dump_of_the_database_alone_cannot_sign()
    {
        var (subscription, secret) = await SubscribeAsync([WebhookEventTypes.ReservationHeld]);
        var stored = (await Store.GetAsync(subscription, CancellationToken.None))!.Secret;
        Assert.DoesNotContain(secret["whsec_".Length..], Convert.ToBase64String(stored));
        var right = new WebhookSecrets(Microsoft.Extensions.Options.Options.Create(Options()));
        Assert.Equal(secret, right.Open(subscription, stored));
        var otherKey = new WebhookSecrets(Microsoft.Extensions.Options.Options.Create(new WebhookOptions { SecretKey = Convert.ToBase64String(new byte[32]) }));
        Assert.ThrowsAny<System.Security.Cryptography.CryptographicException>(() => otherKey.Open(subscription, stored));
        // Sealed for one subscription, it does not open for another.
        Assert.ThrowsAny<System.Security.Cryptography.CryptographicException>(() => right.Open(Guid.NewGuid(), stored));
    }

    [Fact]
    public void Every_message_type_is_emitted_by_the_migration()
    {
        var sql = Migrator.All.Single(m => m.Name == "webhooks").Sql;
        Assert.All(WebhookEventTypes.All.Where(t => t.StartsWith("event.", StringComparison.Ordinal) || t == WebhookEventTypes.ReservationHeld),
            t => Assert.Contains($"'{t}'", sql));
        Assert.All(WebhookEventTypes.All.Where(t => t.StartsWith("reservation.", StringComparison.Ordinal) && t != WebhookEventTypes.ReservationHeld),
            t => Assert.Contains($"'{t[12..].ToUpperInvariant()}'", sql));
    }
}
