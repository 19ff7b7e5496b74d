-- Idempotency-Key records: the first response to a keyed request, stored in the same transaction as its
-- effect, so a retry gets that response back instead of a second hold. Scoped per user; kept at least 24 h.
create table idempotency_keys (
    user_id      uuid        not null references users (id),
    key          text        not null,
    request_hash bytea       not null,
    status_code  integer     not null,
    content_type text        not null,
    body         bytea       not null,
    location     text        null,
    created_at   timestamptz not null default now(),
    primary key (user_id, key),
    constraint idempotency_keys_key_length check (char_length(key) between 1 and 255)
);

create index idempotency_keys_by_age on idempotency_keys (created_at);
