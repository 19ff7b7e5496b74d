// Webhook subscriptions, the outbox the triggers of migration 006 fill, and the delivery attempts. The delivery loop
// claims due messages here (FOR UPDATE SKIP LOCKED, then a lease) and records their outcomes in one batch.
using Dapper;
using Npgsql;

namespace Tickets.Data;

public sealed record WebhookSubscription
{
    public Guid Id { get; init; }
    public required string Url { get; init; }
    public required string[] Events { get; init; }
    public string? Description { get; init; }
    public bool Enabled { get; init; }
    /// <summary>The signing secret's ciphertext (the API encrypts and decrypts it).</summary>
    public required byte[] Secret { get; init; }
    public byte[]? PreviousSecret { get; init; }
    public DateTime? PreviousSecretExpiresAt { get; init; }
    public DateTime? FailingSince { get; init; }
    public string? DisabledReason { get; init; }
    public DateTime CreatedAt { get; init; }
    public DateTime UpdatedAt { get; init; }
}

/// <summary>A partial update: null leaves a field; <see cref="ClearDescription"/> sets the description to null.</summary>
public sealed record WebhookChanges
{
    public string? Url { get; init; }
    public string[]? Events { get; init; }
    public string? Description { get; init; }
    public bool ClearDescription { get; init; }
    public bool? Enabled { get; init; }
}

/// <summary>One delivery attempt as an admin reads it, with its message's type and current status.</summary>
public sealed record WebhookAttempt
{
    public long Id { get; init; }
    public Guid MessageId { get; init; }
    public required string Type { get; init; }
    public int Attempt { get; init; }
    public DateTime StartedAt { get; init; }
    public int DurationMs { get; init; }
    public required string Outcome { get; init; }
    public int? StatusCode { get; init; }
    public string? Error { get; init; }
    public string? ResponseBody { get; init; }
    public required string MessageStatus { get; init; }
}

/// <summary>A message claimed for one attempt, with what signing and sending it needs.</summary>
public sealed record ClaimedWebhookMessage
{
    public Guid Id { get; init; }
    public long Seq { get; init; }
    public Guid SubscriptionId { get; init; }
    public required string Url { get; init; }
    public required byte[] Secret { get; init; }
    /// <summary>The previous secret while its grace period lasts: it signs too.</summary>
    public byte[]? PreviousSecret { get; init; }
    public required string Type { get; init; }
    public Guid SubjectId { get; init; }
    public required string Payload { get; init; }
    public DateTime CreatedAt { get; init; }
    /// <summary>This attempt's number, from 1.</summary>
    public int Attempts { get; init; }
    /// <summary>
    /// A reservation's message only: its event's currency and its lines, which the stored row does not carry. Neither
    /// changes once the reservation exists, so reading them at the claim gives them as they committed.
    /// </summary>
    public string? Currency { get; init; }
    public IReadOnlyList<ReservationLine> Lines { get; init; } = [];
}

public enum WebhookAttemptOutcome
{
    Delivered,
    Failed,
}

public sealed record WebhookAttemptResult(
    Guid MessageId, int Attempt, WebhookAttemptOutcome Outcome, DateTime StartedAt, int DurationMs, int? StatusCode, string? Error,
    string? ResponseBody, TimeSpan RetryDelay);

public readonly record struct WebhookRecordSummary(int Delivered, int Failed, int Dead, IReadOnlyList<Guid> Disabled);

public readonly record struct WebhookBacklog(long Pending, TimeSpan OldestPendingAge);

public sealed class WebhookStore(Database database)
{
    private const string SubscriptionColumns = """
        id, url, events, description, enabled, secret, previous_secret, previous_secret_expires_at, failing_since,
        disabled_reason, created_at, updated_at
        """;

    public Task<WebhookSubscription> CreateAsync(Guid id, string url, string[] events, string? description, byte[] secret, CancellationToken cancellationToken) =>
        database.InOneRoundTripAsync(async (connection, ct) =>
        {
            const string sql = $"""
                insert into webhook_subscriptions (id, url, events, description, secret)
                values (@Id, @Url, @Events, @Description, @Secret)
                returning {SubscriptionColumns}
                """;
            return await connection.QuerySingleAsync<WebhookSubscription>(new CommandDefinition(sql,
                new { Id = id, Url = url, Events = events, Description = description, Secret = secret }, cancellationToken: ct));
        }, cancellationToken);

    public Task<WebhookSubscription?> GetAsync(Guid id, CancellationToken cancellationToken) =>
        database.WithConnectionAsync(async (connection, ct) =>
        {
            const string sql = $"select {SubscriptionColumns} from webhook_subscriptions where id = @Id";
            return await connection.QuerySingleOrDefaultAsync<WebhookSubscription>(new CommandDefinition(sql, new { Id = id }, cancellationToken: ct));
        }, cancellationToken);

    /// <summary>Keyset pagination in id order (UUIDv7, so creation order).</summary>
    public Task<IReadOnlyList<WebhookSubscription>> ListAsync(Guid? after, int limit, CancellationToken cancellationToken) =>
        database.WithConnectionAsync<IReadOnlyList<WebhookSubscription>>(async (connection, ct) =>
        {
            const string sql = $"""
                select {SubscriptionColumns}
                from webhook_subscriptions
                where @After::uuid is null or id > @After::uuid
                order by id
                limit @Limit
                """;
            return (await connection.QueryAsync<WebhookSubscription>(new CommandDefinition(sql, new { After = after, Limit = limit }, cancellationToken: ct))).AsList();
        }, cancellationToken);

    /// <summary>Enabling a subscription forgets why it was disabled and since when it failed: it starts afresh.</summary>
    public Task<WebhookSubscription?> UpdateAsync(Guid id, WebhookChanges changes, CancellationToken cancellationToken) =>
        // The same changes applied twice give the same row: retried like a read.
        database.WithConnectionAsync(async (connection, ct) =>
        {
            const string sql = $"""
                update webhook_subscriptions set
                    url = coalesce(@Url, url),
                    events = coalesce(@Events, events),
                    description = case when @ClearDescription then null else coalesce(@Description, description) end,
                    enabled = coalesce(@Enabled, enabled),
                    failing_since = case when @Enabled then null else failing_since end,
                    disabled_reason = case when @Enabled then null else disabled_reason end,
                    updated_at = now()
                where id = @Id
                returning {SubscriptionColumns}
                """;
            return await connection.QuerySingleOrDefaultAsync<WebhookSubscription>(new CommandDefinition(sql, new
            {
                Id = id,
                changes.Url,
                changes.Events,
                changes.Description,
                changes.ClearDescription,
                changes.Enabled,
            }, cancellationToken: ct));
        }, cancellationToken);

    /// <summary>
    /// Deletes the subscription with its messages and attempts. The subscription's row goes first: that waits for
    /// every transaction writing messages for it (the outbox triggers lock it, migration 011), whose messages the
    /// next statements then see and delete; transactions after it no longer find the subscription.
    /// </summary>
    public Task<bool> DeleteAsync(Guid id, CancellationToken cancellationToken) =>
        database.InTransactionAsync(async (connection, transaction, ct) =>
        {
            const string subscriptionSql = "delete from webhook_subscriptions where id = @Id";
            if (await connection.ExecuteAsync(new CommandDefinition(subscriptionSql, new { Id = id }, transaction, cancellationToken: ct)) == 0)
            {
                return false;
            }
            const string historySql = """
                with messages as (
                    delete from webhook_messages where subscription_id = @Id
                )
                delete from webhook_attempts where subscription_id = @Id
                """;
            await connection.ExecuteAsync(new CommandDefinition(historySql, new { Id = id }, transaction, cancellationToken: ct));
            return true;
        }, cancellationToken);

    /// <summary>The new secret signs from now on; the current one keeps signing beside it for <paramref name="grace"/>.</summary>
    public Task<WebhookSubscription?> RotateSecretAsync(Guid id, byte[] newSecret, TimeSpan grace, CancellationToken cancellationToken) =>
        database.InOneRoundTripAsync(async (connection, ct) =>
        {
            const string sql = $"""
                update webhook_subscriptions set
                    previous_secret = secret,
                    previous_secret_expires_at = now() + @Grace,
                    secret = @Secret,
                    updated_at = now()
                where id = @Id
                returning {SubscriptionColumns}
                """;
            return await connection.QuerySingleOrDefaultAsync<WebhookSubscription>(new CommandDefinition(sql,
                new { Id = id, Secret = newSecret, Grace = grace }, cancellationToken: ct));
        }, cancellationToken);

    /// <summary>A subscription's attempts, newest first, before attempt <paramref name="before"/> when given.</summary>
    public Task<IReadOnlyList<WebhookAttempt>> ListAttemptsAsync(Guid subscriptionId, long? before, int limit, CancellationToken cancellationToken) =>
        database.WithConnectionAsync<IReadOnlyList<WebhookAttempt>>(async (connection, ct) =>
        {
            const string sql = """
                select a.id, a.message_id, m.type, a.attempt, a.started_at, a.duration_ms, a.outcome, a.status_code, a.error,
                       a.response_body, m.status as message_status
                from webhook_attempts a
                join webhook_messages m on m.id = a.message_id
                where a.subscription_id = @SubscriptionId and (@Before::bigint is null or a.id < @Before::bigint)
                order by a.id desc
                limit @Limit
                """;
            return (await connection.QueryAsync<WebhookAttempt>(new CommandDefinition(sql,
                new { SubscriptionId = subscriptionId, Before = before, Limit = limit }, cancellationToken: ct))).AsList();
        }, cancellationToken);

    /// <summary>
    /// Makes a message of the subscription due now, whatever its state (a dead letter, a delivered message, one
    /// waiting for its next retry, one being sent), with a fresh retry window. False when there is no such message.
    /// </summary>
    /// <remarks>
    /// An attempt in flight loses its lease, so its outcome is ignored when its round records it (RecordAsync):
    /// recorded as delivered, it used to undo the re-send. The message goes again, with the same webhook-id.
    /// </remarks>
    public Task<bool> ResendAsync(Guid subscriptionId, Guid messageId, CancellationToken cancellationToken) =>
        database.WithConnectionAsync(async (connection, ct) =>
        {
            const string sql = """
                update webhook_messages
                set status = 'pending', next_attempt_at = clock_timestamp(), retrying_since = clock_timestamp(), delivered_at = null,
                    locked_until = null
                where id = @MessageId and subscription_id = @SubscriptionId
                """;
            return await connection.ExecuteAsync(new CommandDefinition(sql, new { MessageId = messageId, SubscriptionId = subscriptionId }, cancellationToken: ct)) > 0;
        }, cancellationToken);

    /// <summary>
    /// First in the claim's and the record's transactions. Their estimated costs grow with the backlog and pass
    /// <c>jit_above_cost</c> well before their run time does: a claim of 200 of 25,000 pending messages ran in
    /// 2-17 ms and spent 50-750 ms more compiling itself, on every round (the hold batches turn JIT off for the
    /// same reason, ReservationEngine.PreparedBatchAsync).
    /// </summary>
    private const string WithoutJit = "set local jit = off";

    /// <summary>
    /// First in the record's and the cleanup's transactions: no JIT (above), and no sequential scans, so that the
    /// record reads its messages by id (RecordSql) and the cleanup old rows along their BRIN indexes (CleanupSql).
    /// (The claim turns sequential scans off only for its read of the reservations' details, ReservationDetailsSql.)
    /// Planned with stale statistics, the record read every pending message to update the 200 it was given (5,000
    /// in an on-sale's first minute, and growing with the backlog), and the cleanup read both tables whole.
    /// </summary>
    internal const string IndexedSettings = "set local jit = off; set local enable_seqscan = off";

    // Per enabled subscription, along its due messages (webhook_messages_due): the messages of a disabled
    // subscription, and those of a failing one waiting for their next retry, are never read. (Scanning all
    // pending messages in seq order read a disabled subscription's 20,000 waiting messages on every round,
    // and delivery to the others slowed to a crawl.) Each subscription offers its earliest due messages;
    // the round takes the earliest of those.
    internal const string ClaimSql = """
        with due as (
            select d.id
            from webhook_subscriptions s
            cross join lateral (
                select m.id, m.next_attempt_at
                from webhook_messages m
                where m.subscription_id = s.id
                  and m.status = 'pending'
                  -- The clock as an init-plan parameter: clock_timestamp() itself is volatile and cannot bound an
                  -- index scan, which then read every pending message of the subscription.
                  and m.next_attempt_at <= (select clock_timestamp())
                  and (m.locked_until is null or m.locked_until < clock_timestamp())
                  -- No earlier message of its subject pending (the message itself is pending, so <= is =): a
                  -- correlated scalar subquery, one probe per candidate along webhook_messages_unsent_by_subject,
                  -- whose predicate this repeats so that no other index can serve it (migration 009). As NOT EXISTS,
                  -- planned without column statistics (an outbox that grew from empty since its last analyze), it
                  -- became an anti-join comparing each candidate with every pending message of the subscription:
                  -- 0.3-2.7 s a claim with 25,000 pending. Written as <=, estimated to keep a third of the rows (an
                  -- = is estimated at 0.5%), the planner walks the due index in order and stops at the limit
                  -- instead of probing every due message and sorting them.
                  and m.seq <= (
                      select min(e.seq)
                      from webhook_messages e
                      where e.subscription_id = m.subscription_id and e.subject_id = m.subject_id
                        and e.status <> 'delivered' and e.status <> 'dead')
                order by m.next_attempt_at
                limit @Limit
                for update of m skip locked
            ) d
            where s.enabled
            order by d.next_attempt_at
            limit @Limit
        )
        update webhook_messages m
        set attempts = m.attempts + 1, locked_until = clock_timestamp() + @Lease
        from webhook_subscriptions s
        -- By id, whatever the table's size (joined to the claimed ids, a small table was read whole for a hash join).
        where m.id = any (array(select id from due)) and s.id = m.subscription_id
        returning m.id, m.seq, m.subscription_id, s.url, s.secret,
                  case when s.previous_secret_expires_at > clock_timestamp() then s.previous_secret end as previous_secret,
                  m.type, m.subject_id, m.payload::text as payload, m.created_at, m.attempts
        """;

    /// <summary>
    /// Before <see cref="ReservationDetailsSql"/> in the claim's transaction: no sequential scans, and nested loops
    /// only, so that each of the round's reservations is looked up, with its lines and its event, by primary key. A
    /// round's reservations are the newest (time-ordered ids): joined to their lines by a merge join along the lines'
    /// primary key, which the planner picked in the benchmark at 54,000 lines, the claim read every line ever written,
    /// 90-100 ms a round and growing with every sale.
    /// </summary>
    internal const string ReservationDetailsSettings = "set local enable_seqscan = off; set local enable_mergejoin = off; set local enable_hashjoin = off";

    // What a reservation's message needs beyond its stored row, for all of a round's reservations at once. (Merged
    // into each message's JSON by the claim itself, per message, this was half of the claim's cost to the database:
    // 20-40 us a message of 65-80.)
    internal const string ReservationDetailsSql = """
        select r.id as reservation_id, e.currency, l.ticket_type_id, l.quantity, l.unit_price
        from reservations r
        join events e on e.id = r.event_id
        join reservation_lines l on l.reservation_id = r.id
        where r.id = any (@Ids)
        order by r.id, l.ticket_type_id
        """;

    /// <summary>
    /// Claims up to <paramref name="limit"/> due messages of enabled subscriptions for one attempt each: rows locked
    /// by another claim are skipped, and the lease keeps them from every other claim until it ends or the outcome is
    /// recorded. A message waits while an earlier message of the same subject (reservation or event) for the same
    /// subscription is pending, so each subject's messages arrive in commit order.
    /// </summary>
    public Task<IReadOnlyList<ClaimedWebhookMessage>> ClaimAsync(int limit, TimeSpan lease, CancellationToken cancellationToken) =>
        database.InTransactionAsync<IReadOnlyList<ClaimedWebhookMessage>>(async (connection, transaction, ct) =>
        {
            await connection.ExecuteAsync(new CommandDefinition(WithoutJit, transaction: transaction, cancellationToken: ct));
            var claimed = (await connection.QueryAsync<ClaimedWebhookMessage>(new CommandDefinition(ClaimSql,
                new { Limit = limit, Lease = lease }, transaction, cancellationToken: ct))).AsList();
            claimed.Sort((a, b) => a.Seq.CompareTo(b.Seq));
            var reservations = claimed.Where(IsAboutReservation).Select(m => m.SubjectId).Distinct().ToArray();
            if (reservations.Length == 0)
            {
                return claimed;
            }
            // By primary key whatever the statistics or costs, as the record reads its messages: the settings travel with the query.
            var details = (await connection.QueryAsync<(Guid ReservationId, string Currency, Guid TicketTypeId, int Quantity, int UnitPrice)>(
                    new CommandDefinition(ReservationDetailsSettings + ";\n" + ReservationDetailsSql, new { Ids = reservations }, transaction, cancellationToken: ct)))
                .GroupBy(d => d.ReservationId)
                .ToDictionary(g => g.Key, g => (g.First().Currency, Lines: g.Select(d => new ReservationLine(d.TicketTypeId, d.Quantity, d.UnitPrice)).ToArray()));
            return claimed.Select(m => IsAboutReservation(m) && details.TryGetValue(m.SubjectId, out var d)
                ? m with { Currency = d.Currency, Lines = d.Lines }
                : m).ToList();
        }, cancellationToken);

    private static bool IsAboutReservation(ClaimedWebhookMessage message) => message.Type.StartsWith("reservation.", StringComparison.Ordinal);

    // The outcomes joined to their messages by id, one index look-up each (see IndexedSettings), whatever the backlog.
    // The outcomes drive the join, unnested once (materialized). The messages used to be found by "id = any (@Ids)"
    // and the outcomes joined to them: with the statistics of a busy outbox, where nearly no message holds a lease,
    // the planner expected one leased message among the round's, put the messages on the outer side of a nested
    // loop and unnested the nine outcome arrays again for each: 40,000 outcome rows for a round of 200, 30-150 ms of
    // the database's CPU per round in the benchmark's hooked phase.
    internal const string RecordSql = """
        with r as materialized (
            select *
            from unnest(@Ids, @Attempts, @Delivered, @StartedAts, @Durations, @StatusCodes, @Errors, @Bodies, @DelaysMs)
                as r (id, attempt, delivered, started_at, duration_ms, status_code, error, response_body, delay_ms)
        ), updated as (
            update webhook_messages m
            set status = case when r.delivered then 'delivered'
                              when clock_timestamp() >= m.retrying_since + @RetryWindow then 'dead'
                              else 'pending' end,
                delivered_at = case when r.delivered then clock_timestamp() end,
                -- The last retry falls at the window's end, whatever the backoff had grown to.
                next_attempt_at = case when r.delivered then m.next_attempt_at
                                       else least(clock_timestamp() + make_interval(secs => r.delay_ms / 1000.0),
                                                  m.retrying_since + @RetryWindow) end,
                locked_until = null,
                last_error = r.error
            from r
            -- By id, one primary-key look-up per outcome whatever the statistics (with sequential scans off:
            -- IndexedSettings). Still leased by this attempt: a later claim would have raised attempts, a recorded
            -- outcome cleared the lease. (Not "status = 'pending'", which offered a scan of every pending message
            -- along the due index.)
            where m.id = r.id and m.attempts = r.attempt and m.locked_until is not null
            returning m.id, m.subscription_id, m.status, r.attempt, r.started_at, r.duration_ms, r.status_code, r.error, r.response_body
        ), attempts as (
            insert into webhook_attempts (message_id, subscription_id, attempt, started_at, duration_ms, outcome, status_code, error, response_body)
            select id, subscription_id, attempt, started_at, duration_ms,
                   case status when 'delivered' then 'delivered' when 'dead' then 'dead' else 'failed' end,
                   status_code, error, response_body
            from updated
        ), marked as (
            update webhook_subscriptions s
            set failing_since = case when u.any_delivered then null else coalesce(s.failing_since, clock_timestamp()) end
            from (select subscription_id, bool_or(status = 'delivered') as any_delivered from updated group by subscription_id) u
            -- Only when the mark changes: a healthy endpoint's row is not rewritten on every round.
            where s.id = u.subscription_id and (s.failing_since is not null) = u.any_delivered
        )
        select status, count(*)::int as count
        from updated
        group by status
        """;

    /// <summary>
    /// Records the outcomes of claimed attempts in one transaction: the attempt rows; the message delivered, due
    /// again after its retry delay (at the latest when its retry window ends), or dead when it failed at the end of
    /// its retry window; the subscriptions'
    /// failing-since marks; and subscriptions failing for longer than <paramref name="disableAfter"/> disabled with
    /// the reason. An outcome whose lease was lost (its message re-claimed since) is ignored.
    /// </summary>
    public Task<WebhookRecordSummary> RecordAsync(
        IReadOnlyList<WebhookAttemptResult> results, TimeSpan retryWindow, TimeSpan disableAfter, CancellationToken cancellationToken) =>
        database.InTransactionAsync(async (connection, transaction, ct) =>
        {
            await connection.ExecuteAsync(new CommandDefinition(IndexedSettings, transaction: transaction, cancellationToken: ct));
            var counts = (await connection.QueryAsync<(string Status, int Count)>(new CommandDefinition(RecordSql, new
            {
                Ids = results.Select(r => r.MessageId).ToArray(),
                Attempts = results.Select(r => r.Attempt).ToArray(),
                Delivered = results.Select(r => r.Outcome == WebhookAttemptOutcome.Delivered).ToArray(),
                StartedAts = results.Select(r => r.StartedAt).ToArray(),
                Durations = results.Select(r => r.DurationMs).ToArray(),
                StatusCodes = results.Select(r => r.StatusCode).ToArray(),
                Errors = results.Select(r => r.Error).ToArray(),
                Bodies = results.Select(r => r.ResponseBody).ToArray(),
                DelaysMs = results.Select(r => (long)r.RetryDelay.TotalMilliseconds).ToArray(),
                RetryWindow = retryWindow,
            }, transaction, cancellationToken: ct))).ToDictionary(c => c.Status, c => c.Count);

            // Separate from the statement above: its data-modifying CTEs all see the subscriptions as they were.
            const string disableSql = """
                update webhook_subscriptions
                set enabled = false,
                    disabled_reason = 'Every delivery failed since ' || to_char(failing_since at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                                      || '; disabled at ' || to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                                      || '. Fix the endpoint and enable the subscription again.',
                    updated_at = now()
                where enabled and failing_since < clock_timestamp() - @DisableAfter
                returning id
                """;
            var disabled = (await connection.QueryAsync<Guid>(new CommandDefinition(disableSql,
                new { DisableAfter = disableAfter }, transaction, cancellationToken: ct))).AsList();
            return new WebhookRecordSummary(counts.GetValueOrDefault("delivered"), counts.GetValueOrDefault("pending"),
                counts.GetValueOrDefault("dead"), disabled);
        }, cancellationToken);

    /// <summary>Pending messages of enabled subscriptions and the age of the oldest: the backlog the metrics show.</summary>
    public Task<WebhookBacklog> BacklogAsync(CancellationToken cancellationToken) =>
        database.WithConnectionAsync(async (connection, ct) =>
        {
            const string sql = """
                select count(*) as pending,
                       coalesce(extract(epoch from clock_timestamp() - min(m.created_at)), 0)::float8 as oldest_seconds
                from webhook_messages m
                join webhook_subscriptions s on s.id = m.subscription_id
                where m.status = 'pending' and s.enabled
                """;
            var (pending, oldest) = await connection.QuerySingleAsync<(long, double)>(new CommandDefinition(sql, cancellationToken: ct));
            return new WebhookBacklog(pending, TimeSpan.FromSeconds(oldest));
        }, cancellationToken);

    /// <summary>
    /// Deletes delivered and dead messages older than <paramref name="retention"/>, and attempts older than it, a
    /// bounded batch of each at a time; returns how many messages. Both are found along their BRIN index by age
    /// (migration 010), with sequential scans off so that a plan made with stale statistics cannot read the tables
    /// whole once a minute.
    /// </summary>
    public Task<int> DeleteOldMessagesAsync(TimeSpan retention, int limit, CancellationToken cancellationToken) =>
        database.InTransactionAsync(async (connection, transaction, ct) =>
        {
            await connection.ExecuteAsync(new CommandDefinition(IndexedSettings, transaction: transaction, cancellationToken: ct));
            return await connection.ExecuteScalarAsync<int>(new CommandDefinition(CleanupSql, new { Retention = retention, Limit = limit }, transaction, cancellationToken: ct));
        }, cancellationToken);

    internal const string CleanupSql = """
        with old_messages as (
            delete from webhook_messages
            where id in (
                select id
                from webhook_messages
                -- The cut-off as an init-plan parameter: clock_timestamp() itself is volatile and cannot bound an index scan.
                where created_at < (select clock_timestamp() - @Retention) and status <> 'pending'
                limit @Limit)
            returning 1
        ), old_attempts as (
            delete from webhook_attempts
            where id in (
                select id
                from webhook_attempts
                where started_at < (select clock_timestamp() - @Retention)
                limit @Limit)
        )
        select count(*)::int from old_messages
        """;
}
