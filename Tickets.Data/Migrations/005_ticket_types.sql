-- Ticket types: the unit of sale. An event keeps its capacity (the venue, shared by all its types); each type has
-- a quota of its own with the same counters, a price in the event's currency, and an optional sales window and
-- per-user limit. A reservation's seats are its lines, one per type, each with the unit price at hold time.
-- Existing events get one default type holding their counters; existing reservations one line of that type.

alter table events add column currency text not null default 'EUR';
-- ISO 4217 alphabetic codes: three capital letters.
alter table events add constraint events_currency check (currency ~ '^[A-Z]{3}$');

create table ticket_types (
    id                   uuid        primary key,
    event_id             uuid        not null references events (id),
    name                 text        not null,
    -- Integer minor units of the event's currency (cents for EUR, yen for JPY).
    price                integer     not null,
    capacity             integer     not null,
    available            integer     not null,
    held                 integer     not null default 0,
    confirmed            integer     not null default 0,
    sales_opens_at       timestamptz null,
    sales_closes_at      timestamptz null,
    max_tickets_per_user integer     null,
    sort_order           integer     not null default 0,
    state                text        not null default 'ON_SALE',
    created_at           timestamptz not null default now(),
    updated_at           timestamptz not null default now(),
    constraint ticket_types_name_length check (char_length(name) between 1 and 200),
    constraint ticket_types_price check (price >= 0),
    -- The same invariant as the event's, over the type's quota.
    constraint ticket_types_counters_non_negative check (available >= 0 and held >= 0 and confirmed >= 0),
    constraint ticket_types_counters_sum check (available + held + confirmed = capacity),
    constraint ticket_types_sales_window check (sales_opens_at is null or sales_closes_at is null or sales_opens_at < sales_closes_at),
    constraint ticket_types_max_tickets_per_user check (max_tickets_per_user is null or max_tickets_per_user >= 1),
    constraint ticket_types_state check (state in ('ON_SALE', 'PAUSED'))
);

create index ticket_types_by_event on ticket_types (event_id, sort_order, id);

create table reservation_lines (
    reservation_id uuid    not null references reservations (id),
    ticket_type_id uuid    not null references ticket_types (id),
    quantity       integer not null,
    -- The type's price when the hold was made; a later price change never alters it.
    unit_price     integer not null,
    primary key (reservation_id, ticket_type_id),
    constraint reservation_lines_quantity_positive check (quantity > 0),
    constraint reservation_lines_unit_price check (unit_price >= 0)
);

-- A type's own per-user limit and the invariant check read lines by type.
create index reservation_lines_by_type on reservation_lines (ticket_type_id);

insert into ticket_types (id, event_id, name, price, capacity, available, held, confirmed, sort_order, state, created_at, updated_at)
select gen_random_uuid(), id, 'General admission', 0, capacity, available, held, confirmed, 0, 'ON_SALE', created_at, updated_at
from events;

insert into reservation_lines (reservation_id, ticket_type_id, quantity, unit_price)
select r.id, t.id, r.quantity, 0
from reservations r
join ticket_types t on t.event_id = r.event_id;

-- What a CHECK constraint cannot see, checked at commit: an event's held and confirmed seats are the sums over
-- its types. Deferred, so that one transaction may move an event's and its types' counters in any order (or
-- create an event and then its types); checked once per changed row, with the event's and its types' rows
-- read together.
create function ticket_types_match_event() returns trigger
language plpgsql as $$
declare
    target uuid;
    mismatch boolean;
begin
    -- One function for both tables: each branch only ever runs for its own table's rows.
    if tg_table_name = 'events' then
        target := new.id;
    else
        target := new.event_id;
    end if;
    select e.held <> coalesce(sum(t.held), 0) or e.confirmed <> coalesce(sum(t.confirmed), 0)
    into mismatch
    from events e
    left join ticket_types t on t.event_id = e.id
    where e.id = target
    group by e.id;
    if mismatch then
        raise exception 'held or confirmed seats of event % differ from the sums over its ticket types', target
            using errcode = 'check_violation', constraint = 'events_ticket_type_sums';
    end if;
    return null;
end;
$$;

create constraint trigger events_ticket_type_sums
    after update of held, confirmed on events
    deferrable initially deferred
    for each row execute function ticket_types_match_event();

create constraint trigger ticket_types_event_sums
    after insert or update of held, confirmed, event_id on ticket_types
    deferrable initially deferred
    for each row execute function ticket_types_match_event();
