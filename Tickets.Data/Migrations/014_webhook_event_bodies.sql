-- Event messages carry the event as the API shows it, its ticket types included, and a change of a ticket type is an
-- event.updated.
--
-- An event's message stored to_jsonb of the events row alone, so event.sold_out and event.updated bodies had an
-- empty ticketTypes, where GET /api/events/{id} lists each type with its price, quota and counters. The types are
-- now read as the trigger runs, after the statement that changed the event (the hold, change and sweep statements
-- move the event's and its types' counters in one statement), so the body shows them as that change left them.
--
-- event.updated was decided by comparing the event's admin columns; adding a ticket type, or changing one's name,
-- price, quota, window, limit, order or state, changed the event as the API shows it and said nothing. The writers
-- of a type now move their event's updated_at when, and only when, something changed (TicketTypeStore), as the
-- event's own update now does (EventStore.UpdateAsync: the same changes applied again leave it); the seat counters
-- never move it. So updated_at joins the compared columns.
create function webhook_event_payload(e events) returns jsonb
language sql stable
as $$
    select to_jsonb(e) || jsonb_build_object('ticket_types', coalesce(
        (select jsonb_agg(to_jsonb(t) order by t.sort_order, t.id) from ticket_types t where t.event_id = e.id), '[]'::jsonb))
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
    select webhook_message_id(), s.id, m.type, m.id, webhook_event_payload(e)
    from (
        -- An admin change of the event, or of one of its types (its writers move the event's updated_at); the seat
        -- counters move on every hold and are not one.
        select n.id, 1 as ord, 'event.updated' as type
        from new_rows n
        join old_rows o on o.id = n.id
        where (o.name, o.capacity, o.sales_opens_at, o.sales_closes_at, o.max_tickets_per_user, o.hold_seconds, o.updated_at)
              is distinct from (n.name, n.capacity, n.sales_opens_at, n.sales_closes_at, n.max_tickets_per_user, n.hold_seconds, n.updated_at)
        union all
        select n.id, 2, 'event.sold_out'
        from new_rows n
        join old_rows o on o.id = n.id
        where o.available > 0 and n.available = 0
    ) m
    join new_rows e on e.id = m.id
    join webhook_subscriptions s on s.id = any (subscriptions) and m.type = any (s.events)
    order by m.id, m.ord, s.id;
    return null;
end
$$;
