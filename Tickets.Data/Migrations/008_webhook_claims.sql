-- Claiming webhook messages reads only what it can claim.
--
-- A claim took the oldest pending messages of all subscriptions in seq order and dropped those of disabled
-- subscriptions and those not yet due as it went: a disabled subscription's backlog (20,000 messages in the
-- benchmark; a day of an on-sale after a receiver broke) was read again on every round of 200, and delivery to
-- every other subscription slowed to a crawl. Claims now walk each enabled subscription's due messages along this
-- index. Order per subject is kept by the claim's own check (no message goes while an earlier one of its subject
-- is pending), not by the order of the scan.
create index webhook_messages_due on webhook_messages (subscription_id, next_attempt_at) where status = 'pending';
drop index webhook_messages_pending;

-- Room on each page for a message's next version. A claim changes only the attempt count and the lease, no indexed
-- column, so with room on the page PostgreSQL keeps the new version there (a HOT update) and writes none of the
-- table's index entries again. (Recording the outcome changes the status or the next attempt, which the indexes
-- name, so that update cannot be HOT.) Pages written before this migration keep their layout.
alter table webhook_messages set (fillfactor = 70);
