-- Deleting delivered and dead outbox messages past their retention reads only old rows.
--
-- The cleanup (each delivery loop, once a minute) looked for old finished messages with nothing to find them by: a
-- scan of the whole table, every minute, on every instance. And each message it deleted cascaded to its attempts
-- through a foreign key with no index on the attempts' side: one scan of webhook_attempts per deleted message, up
-- to 10,000 of them a minute once the first on-sale's messages reached their retention. (Deleting a subscription
-- cascaded the same way.) Rows go into both tables in time order, so a BRIN index on the time finds the old ones
-- for the price of a few pages; attempts are now deleted by their own age, with the same retention, instead of
-- through the foreign key.
alter table webhook_attempts drop constraint webhook_attempts_message_id_fkey;
create index webhook_messages_by_age on webhook_messages using brin (created_at) with (pages_per_range = 16);
create index webhook_attempts_by_age on webhook_attempts using brin (started_at) with (pages_per_range = 16);
