-- The claim's per-subject ordering check can use one index only, whatever the statistics.
--
-- A claim lets a message go only when no earlier message of its subject is pending for the same subscription:
-- one probe per candidate on (subscription_id, subject_id, seq). Planned without column statistics (an outbox
-- that grew from empty since its last analyze: the first minute of an on-sale), PostgreSQL rated every index
-- whose leading column is subscription_id the same, and probed through webhook_messages_due or
-- webhook_messages_by_subscription instead, reading every pending message of the subscription per candidate:
-- 0.3-2.7 s a claim with 25,000 pending in the benchmark, and delivery fell behind the sales.
--
-- The probe's index now has a predicate no other index's is implied by (the check constraint allows three
-- statuses, so "neither delivered nor dead" is "pending"), and the probe states that predicate: the due index
-- (status = 'pending') cannot serve it. The index by subscription served only the cascade of a subscription's
-- delete, an admin action that can read the table; every message insert and every recorded outcome wrote an
-- entry in it.
drop index webhook_messages_pending_by_subject;
drop index webhook_messages_by_subscription;
create index webhook_messages_unsent_by_subject on webhook_messages (subscription_id, subject_id, seq)
    where status <> 'delivered' and status <> 'dead';
