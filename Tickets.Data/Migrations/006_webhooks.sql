-- Webhooks from a transactional outbox. Subscriptions say which message types an endpoint wants; statement-level
-- triggers on reservations and events write one outbox row per (message, subscription) in the statement that made
-- the change, so a message exists if and only if its change committed, on every path that writes these tables (the
-- one-at-a-time and batched engine paths, the sweeper, admin event updates) without those paths knowing. A batch
-- statement writes all its messages with one INSERT ... SELECT over its transition table. With no enabled
-- subscription for a type, a trigger costs one lookup in the (small) subscription table per statement.
-- The delivery loop (Tickets.Api/WebhookDelivery.cs) claims due rows with FOR UPDATE SKIP LOCKED under a lease.

create table webhook_subscriptions (
    id                          uuid        primary key,
    url                         text        not null,
    events                      text[]      not null,
    description                 text        null,
    enabled                     boolean     not null default true,
    -- AES-GCM ciphertexts of the signing secret under the app's Webhooks:SecretKey: a dump alone cannot sign.
    secret                      bytea       not null,
    previous_secret             bytea       null,
    previous_secret_expires_at  timestamptz null,
    -- Since when every delivery to this endpoint has failed (null after a success); past the limit it is disabled.
    failing_since               timestamptz null,
    disabled_reason             text        null,
    created_at                  timestamptz not null default now(),
    updated_at                  timestamptz not null default now(),
    constraint webhook_subscriptions_events_not_empty check (cardinality(events) >= 1)
);

create table webhook_messages (
    -- The webhook-id header: the same on every attempt, so a receiver can drop duplicates.
    id              uuid        primary key,
    -- Commit order per subject: a later change of a row waits for the earlier one's row lock, so its seq is higher.
    seq             bigint      generated always as identity,
    subscription_id uuid        not null references webhook_subscriptions (id) on delete cascade,
    type            text        not null,
    -- The reservation or event the message is about; delivery keeps each subject's messages in seq order.
    subject_id      uuid        not null,
    -- The row as committed (to_jsonb of the table row); the delivery loop shapes it as the API shows it.
    payload         jsonb       not null,
    created_at      timestamptz not null default clock_timestamp(),
    status          text        not null default 'pending',
    attempts        integer     not null default 0,
    next_attempt_at timestamptz not null default clock_timestamp(),
    -- Retries stop (dead letter) a retry window after this: creation, or the last re-send.
    retrying_since  timestamptz not null default clock_timestamp(),
    -- A claimed attempt's lease: no other loop claims the row before it ends.
    locked_until    timestamptz null,
    delivered_at    timestamptz null,
    last_error      text        null,
    constraint webhook_messages_status_known check (status in ('pending', 'delivered', 'dead'))
);

-- The claim: pending rows in seq order, and the "earlier pending message of the same subject" test.
create index webhook_messages_pending on webhook_messages (seq) where status = 'pending';
create index webhook_messages_pending_by_subject on webhook_messages (subscription_id, subject_id, seq) where status = 'pending';
create index webhook_messages_by_subscription on webhook_messages (subscription_id, seq);

create table webhook_attempts (
    id              bigint      generated always as identity primary key,
    message_id      uuid        not null references webhook_messages (id) on delete cascade,
    subscription_id uuid        not null references webhook_subscriptions (id) on delete cascade,
    attempt         integer     not null,
    started_at      timestamptz not null,
    duration_ms     integer     not null,
    -- delivered (2xx), failed (any other answer, a timeout, a refused target), dead (the failure that dead-lettered).
    outcome         text        not null,
    status_code     integer     null,
    error           text        null,
    response_body   text        null,
    constraint webhook_attempts_outcome_known check (outcome in ('delivered', 'failed', 'dead'))
);

create index webhook_attempts_by_subscription on webhook_attempts (subscription_id, id);

-- Whether any enabled subscription wants one of these types: the first thing every trigger asks.
create function webhook_wanted(types text[]) returns boolean
language sql stable
as $$
    select exists (select 1 from webhook_subscriptions where enabled and events && types)
$$;

create function webhook_reservations_inserted() returns trigger
language plpgsql
as $$
begin
    if not webhook_wanted(array['reservation.held']) then
        return null;
    end if;
    insert into webhook_messages (id, subscription_id, type, subject_id, payload)
    select gen_random_uuid(), s.id, 'reservation.held', n.id, to_jsonb(n)
    from inserted n
    join webhook_subscriptions s on s.enabled and 'reservation.held' = any (s.events)
    order by n.id, s.id;
    return null;
end
$$;

create function webhook_reservations_updated() returns trigger
language plpgsql
as $$
begin
    if not webhook_wanted(array['reservation.confirmed', 'reservation.expired', 'reservation.released', 'reservation.cancelled']) then
        return null;
    end if;
    insert into webhook_messages (id, subscription_id, type, subject_id, payload)
    select gen_random_uuid(), s.id, m.type, m.id, m.payload
    from (
        select n.id, 'reservation.' || lower(n.status) as type, to_jsonb(n) as payload
        from new_rows n
        join old_rows o on o.id = n.id
        where o.status is distinct from n.status
          and n.status in ('CONFIRMED', 'EXPIRED', 'RELEASED', 'CANCELLED')
    ) m
    join webhook_subscriptions s on s.enabled and m.type = any (s.events)
    order by m.id, s.id;
    return null;
end
$$;

create function webhook_events_updated() returns trigger
language plpgsql
as $$
begin
    if not webhook_wanted(array['event.updated', 'event.sold_out']) then
        return null;
    end if;
    insert into webhook_messages (id, subscription_id, type, subject_id, payload)
    select gen_random_uuid(), s.id, m.type, m.id, m.payload
    from (
        -- An admin change of what the event is; the seat counters move on every hold and are not an update.
        select n.id, 1 as ord, 'event.updated' as type, to_jsonb(n) as payload
        from new_rows n
        join old_rows o on o.id = n.id
        where (o.name, o.capacity, o.sales_opens_at, o.sales_closes_at, o.max_tickets_per_user, o.hold_seconds)
              is distinct from (n.name, n.capacity, n.sales_opens_at, n.sales_closes_at, n.max_tickets_per_user, n.hold_seconds)
        union all
        select n.id, 2, 'event.sold_out', to_jsonb(n)
        from new_rows n
        join old_rows o on o.id = n.id
        where o.available > 0 and n.available = 0
    ) m
    join webhook_subscriptions s on s.enabled and m.type = any (s.events)
    order by m.id, m.ord, s.id;
    return null;
end
$$;

-- Transition tables allow one event per trigger, hence two on reservations.
create trigger webhook_reservations_inserted
    after insert on reservations
    referencing new table as inserted
    for each statement execute function webhook_reservations_inserted();

create trigger webhook_reservations_updated
    after update on reservations
    referencing old table as old_rows new table as new_rows
    for each statement execute function webhook_reservations_updated();

create trigger webhook_events_updated
    after update on events
    referencing old table as old_rows new table as new_rows
    for each statement execute function webhook_events_updated();
