-- Room on each page of the outbox for a message's next version. A claim changes only the attempt count and the
-- lease, no indexed column, so with room on the page PostgreSQL keeps the new version there (a HOT update) and
-- writes none of the table's four index entries again; on full pages it wrote all four for every claimed message.
-- (Recording the outcome changes the status, which the partial indexes name, so that update cannot be HOT.)
-- Pages written before this migration keep their layout.
alter table webhook_messages set (fillfactor = 70);
