-- The references of the rows a hold inserts, checked once per statement instead of once per row.
--
-- A hold inserts a reservation, its lines and, with an Idempotency-Key, a stored response. With foreign keys, each
-- of those rows ran its own check: a query of its own (executor start-up, an index probe, a FOR KEY SHARE row
-- lock, and for a line the lock of the reservation inserted a moment before is a WAL record of its own): four
-- checks per single-line hold, a third of PostgreSQL's time on the hot path (docs/benchmarks.md, "Ticket types").
--
-- What those locks protected against was a referenced row deleted (or its key changed) while the referencing row
-- was being inserted. Users, events, ticket types and reservations are the sales history: nothing in the app ever
-- deletes them or changes their ids, and the triggers below now refuse both to every role, so no lock is needed.
-- What is left of each foreign key is "the referenced row exists", and that is one set query over the statement's
-- inserted rows (a transition table): for a batch of 100 holds, three queries instead of 400. The lines' check is
-- stricter than the foreign keys were: a line's ticket type must belong to its reservation's event.
--
-- The checks raise what the foreign keys raised (SQLSTATE 23503 with the old constraint's name), so the app tells
-- an unknown user from other failures as before.

create function history_rows_are_never_deleted() returns trigger
language plpgsql as $$
begin
    raise exception '% rows are never deleted (they are the sales history)', tg_table_name
        using errcode = 'restrict_violation';
end;
$$;

create function history_ids_never_change() returns trigger
language plpgsql as $$
begin
    raise exception 'the references of a % row never change', tg_table_name
        using errcode = 'restrict_violation';
end;
$$;

do $$
declare
    history text;
begin
    foreach history in array array['users', 'events', 'ticket_types', 'reservations', 'reservation_lines'] loop
        execute format('create trigger %I before delete on %I for each statement execute function history_rows_are_never_deleted()',
                       history || '_never_deleted', history);
        execute format('create trigger %I before truncate on %I for each statement execute function history_rows_are_never_deleted()',
                       history || '_never_truncated', history);
    end loop;
end
$$;

-- Row triggers with a column list fire only when an UPDATE names one of those columns: none of the app's do.
create trigger users_id_never_changes before update of id on users
    for each row execute function history_ids_never_change();
create trigger events_id_never_changes before update of id on events
    for each row execute function history_ids_never_change();
create trigger ticket_types_ids_never_change before update of id, event_id on ticket_types
    for each row execute function history_ids_never_change();
create trigger reservations_references_never_change before update of id, event_id, user_id on reservations
    for each row execute function history_ids_never_change();
create trigger reservation_lines_references_never_change before update of reservation_id, ticket_type_id on reservation_lines
    for each row execute function history_ids_never_change();
create trigger idempotency_keys_user_never_changes before update of user_id on idempotency_keys
    for each row execute function history_ids_never_change();

create function reservations_references_exist() returns trigger
language plpgsql as $$
declare
    missing record;
begin
    select n.event_id, n.user_id, e.id is null as no_event
    into missing
    from inserted n
    left join events e on e.id = n.event_id
    left join users u on u.id = n.user_id
    where e.id is null or u.id is null
    limit 1;
    if found then
        if missing.no_event then
            raise exception 'event % of a new reservation does not exist', missing.event_id
                using errcode = 'foreign_key_violation', constraint = 'reservations_event_id_fkey';
        end if;
        raise exception 'user % of a new reservation does not exist', missing.user_id
            using errcode = 'foreign_key_violation', constraint = 'reservations_user_id_fkey';
    end if;
    return null;
end;
$$;

create function reservation_lines_references_exist() returns trigger
language plpgsql as $$
declare
    missing record;
begin
    select l.reservation_id, l.ticket_type_id
    into missing
    from inserted l
    where not exists (
        select 1
        from reservations r
        join ticket_types t on t.event_id = r.event_id
        where r.id = l.reservation_id and t.id = l.ticket_type_id)
    limit 1;
    if found then
        raise exception 'line of reservation % names ticket type %, which is not a type of its event (or the reservation does not exist)',
            missing.reservation_id, missing.ticket_type_id
            using errcode = 'foreign_key_violation', constraint = 'reservation_lines_ticket_type_id_fkey';
    end if;
    return null;
end;
$$;

create function idempotency_keys_user_exists() returns trigger
language plpgsql as $$
declare
    missing uuid;
begin
    select n.user_id
    into missing
    from inserted n
    where not exists (select 1 from users u where u.id = n.user_id)
    limit 1;
    if found then
        raise exception 'user % of a new idempotency key does not exist', missing
            using errcode = 'foreign_key_violation', constraint = 'idempotency_keys_user_id_fkey';
    end if;
    return null;
end;
$$;

alter table reservations drop constraint reservations_event_id_fkey, drop constraint reservations_user_id_fkey;
alter table reservation_lines drop constraint reservation_lines_reservation_id_fkey, drop constraint reservation_lines_ticket_type_id_fkey;
alter table idempotency_keys drop constraint idempotency_keys_user_id_fkey;

create trigger reservations_references_exist
    after insert on reservations
    referencing new table as inserted
    for each statement execute function reservations_references_exist();

create trigger reservation_lines_references_exist
    after insert on reservation_lines
    referencing new table as inserted
    for each statement execute function reservation_lines_references_exist();

create trigger idempotency_keys_user_exists
    after insert on idempotency_keys
    referencing new table as inserted
    for each statement execute function idempotency_keys_user_exists();

-- It served the foreign key to ticket_types (finding a deleted type's lines); no query reads lines by type alone,
-- and types are never deleted.
drop index reservation_lines_by_type;
