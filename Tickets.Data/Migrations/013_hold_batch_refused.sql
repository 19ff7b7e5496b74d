-- A whole hold batch now writes its rows before it takes the events' locks (ReservationEngine.HoldAllAsync): the
-- inserts, their indexes and their triggers run side by side across instances, and only the decision and the
-- counters wait for a hot event's row. When the decision, made under the locks, does not grant the whole batch,
-- the rows already written must go: the decision statement raises this error, and PostgreSQL rolls the batch's
-- implicit transaction back (or the caller's transaction back to a savepoint). The app catches it by its SQLSTATE
-- and decides the batch request by request, as before. Class TK is no standard class, so nothing else raises it.
create function hold_batch_refused() returns boolean
language plpgsql volatile
as $$
begin
    raise exception 'the hold batch is not granted whole'
        using errcode = 'TK001', hint = 'Expected: the app decides the batch request by request.';
end
$$;
