-- Users, events with seat counters, and reservations kept as history.

create table users (
    id            uuid        primary key,
    email         text        null,
    password_hash text        null,
    role          text        not null,
    created_at    timestamptz not null default now(),
    constraint users_role_known check (role in ('user', 'guest', 'admin')),
    -- Guests buy without an account: no email, no password.
    constraint users_credentials check ((role = 'guest') = (email is null) and (email is null) = (password_hash is null))
);

create unique index users_email_unique on users (lower(email)) where email is not null;

create table events (
    id                   uuid        primary key,
    name                 text        not null,
    capacity             integer     not null,
    available            integer     not null,
    held                 integer     not null default 0,
    confirmed            integer     not null default 0,
    sales_opens_at       timestamptz null,
    sales_closes_at      timestamptz null,
    max_tickets_per_user integer     null,
    hold_seconds         integer     not null default 300,
    created_at           timestamptz not null default now(),
    updated_at           timestamptz not null default now(),
    constraint events_name_length check (char_length(name) between 1 and 200),
    -- The invariant no bug may break: every seat is exactly one of available, held or confirmed.
    constraint events_counters_non_negative check (available >= 0 and held >= 0 and confirmed >= 0),
    constraint events_counters_sum check (available + held + confirmed = capacity),
    constraint events_sales_window check (sales_opens_at is null or sales_closes_at is null or sales_opens_at < sales_closes_at),
    constraint events_max_tickets_per_user check (max_tickets_per_user is null or max_tickets_per_user >= 1),
    constraint events_hold_seconds check (hold_seconds between 30 and 3600)
);

create table reservations (
    id           uuid        primary key,
    event_id     uuid        not null references events (id),
    user_id      uuid        not null references users (id),
    quantity     integer     not null,
    status       text        not null,
    created_at   timestamptz not null,
    expires_at   timestamptz not null,
    confirmed_at timestamptz null,
    -- When and why (the status) a reservation stopped counting against capacity.
    ended_at     timestamptz null,
    constraint reservations_quantity_positive check (quantity > 0),
    constraint reservations_status_known check (status in ('HOLD', 'CONFIRMED', 'EXPIRED', 'RELEASED', 'CANCELLED')),
    constraint reservations_ended_iff_inactive check ((status in ('HOLD', 'CONFIRMED')) = (ended_at is null)),
    constraint reservations_confirmed_at check ((status = 'CONFIRMED') <= (confirmed_at is not null))
);

-- The sweeper's queue: only live holds, ordered by expiry.
create index reservations_live_holds_by_expiry on reservations (expires_at) where status = 'HOLD';
-- Per-user limit checks and expired-hold release on the hold path.
create index reservations_active_by_event_user on reservations (event_id, user_id) where status in ('HOLD', 'CONFIRMED');
create index reservations_by_user on reservations (user_id, id);
