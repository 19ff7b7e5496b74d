-- The webhook triggers' checks are planned once per connection, not once per transaction.
--
-- webhook_wanted and webhook_lock_wanted were SQL functions whose bodies hold a subquery, so PostgreSQL cannot
-- inline them into the trigger's expression, and (before PostgreSQL 18) keeps a SQL function's plan only for the
-- query that calls it: every statement that fires a webhook trigger planned the check again, in its own
-- transaction. Every hold batch fires two (the reservations' insert, the event's update), so each batch planned
-- the "is anyone subscribed?" query twice whether anyone was or not, and twice more with a subscriber: 60-80 us
-- of the database's time per plan, the largest fixed cost the triggers added to a batch with no subscriber.
-- As PL/pgSQL the same queries keep their plans for the life of the connection, like the triggers' own queries.
create or replace function webhook_wanted(types text[]) returns boolean
language plpgsql stable
as $$
begin
    return exists (select 1 from webhook_subscriptions where enabled and events && types);
end
$$;

create or replace function webhook_lock_wanted(types text[]) returns uuid[]
language plpgsql volatile
as $$
begin
    return array(select id from webhook_subscriptions where enabled and events && types order by id for key share);
end
$$;
