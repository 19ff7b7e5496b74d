-- Outbox rows cost a hold less: one lock per statement instead of a foreign-key check per row, and time-ordered ids.
--
-- Measured with a reservation.held subscriber whose messages were written but not yet delivered, holds ran at
-- 0.45-0.54 of their rate without the triggers, PostgreSQL spending 230-300 us more per hold, where inserting a
-- message costs 45 us on its own. Most of the rest was write-ahead log: message ids were random (v4) UUIDs, so each
-- batch's messages landed on as many random pages of the primary key, and after every checkpoint each page's first
-- change logged the whole page: 3,600 bytes of WAL per message against 1,260 with time-ordered (v7) ids.
--
-- With a reservation.held subscriber every hold wrote an outbox row whose foreign key was checked on its own: a
-- queued trigger event, an executor start and a FOR KEY SHARE lock on the subscription's row for every message,
-- the same row for every writer at once (a multixact of all of them). Every delivery attempt row did the same.
-- Now each trigger locks the subscriptions it writes for once per statement (FOR KEY SHARE, as the foreign key
-- did) and writes messages only for those it locked. A subscription's delete takes its row first, so it waits for
-- every transaction writing messages for it, then deletes its messages and attempts (WebhookStore.DeleteAsync):
-- none can be left behind, and none are written after it.
alter table webhook_messages drop constraint webhook_messages_subscription_id_fkey;
alter table webhook_attempts drop constraint webhook_attempts_subscription_id_fkey;

-- A version 7 UUID (RFC 9562): the millisecond time first, then random bits. The webhook-id receivers see; time
-- ordered, so new messages' primary-key entries go to the index's last pages.
create function webhook_message_id() returns uuid
language sql volatile
as $$
    select encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
        placing substring(int8send(floor(extract(epoch from clock_timestamp()) * 1000)::bigint) from 3) from 1 for 6),
        52, 1), 53, 1), 'hex')::uuid
$$;

-- The enabled subscriptions that want one of these types, locked against delete until this transaction ends.
create function webhook_lock_wanted(types text[]) returns uuid[]
language sql volatile
as $$
    select array(select id from webhook_subscriptions where enabled and events && types order by id for key share)
$$;

create or replace function webhook_reservations_inserted() returns trigger
language plpgsql
as $$
declare
    subscriptions uuid[];
begin
    if not webhook_wanted(array['reservation.held']) then
        return null;
    end if;
    subscriptions := webhook_lock_wanted(array['reservation.held']);
    insert into webhook_messages (id, subscription_id, type, subject_id, payload)
    select webhook_message_id(), s.id, 'reservation.held', n.id, to_jsonb(n)
    from inserted n
    join webhook_subscriptions s on s.id = any (subscriptions) and 'reservation.held' = any (s.events)
    order by n.id, s.id;
    return null;
end
$$;

create or replace function webhook_reservations_updated() returns trigger
language plpgsql
as $$
declare
    types constant text[] := array['reservation.confirmed', 'reservation.expired', 'reservation.released', 'reservation.cancelled'];
    subscriptions uuid[];
begin
    if not webhook_wanted(types) then
        return null;
    end if;
    subscriptions := webhook_lock_wanted(types);
    insert into webhook_messages (id, subscription_id, type, subject_id, payload)
    select webhook_message_id(), s.id, m.type, m.id, m.payload
    from (
        select n.id, 'reservation.' || lower(n.status) as type, to_jsonb(n) as payload
        from new_rows n
        join old_rows o on o.id = n.id
        where o.status is distinct from n.status
          and n.status in ('CONFIRMED', 'EXPIRED', 'RELEASED', 'CANCELLED')
    ) m
    join webhook_subscriptions s on s.id = any (subscriptions) and m.type = any (s.events)
    order by m.id, s.id;
    return null;
end
$$;

create or replace function webhook_events_updated() returns trigger
language plpgsql
as $$
declare
    types constant text[] := array['event.updated', 'event.sold_out'];
    subscriptions uuid[];
begin
    if not webhook_wanted(types) then
        return null;
    end if;
    subscriptions := webhook_lock_wanted(types);
    insert into webhook_messages (id, subscription_id, type, subject_id, payload)
    select webhook_message_id(), s.id, m.type, m.id, m.payload
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
    join webhook_subscriptions s on s.id = any (subscriptions) and m.type = any (s.events)
    order by m.id, m.ord, s.id;
    return null;
end
$$;
