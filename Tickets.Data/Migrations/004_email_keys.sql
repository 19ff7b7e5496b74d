-- One comparison rule for email addresses (Tickets.Data/EmailAddress.cs: Unicode compatibility caseless matching,
-- invisible characters dropped) instead of PostgreSQL's lower(), which depends on the server's locale and left
-- KELVIN SIGN, fullwidth letters, composed and decomposed é and leading zero-width spaces as separate accounts.
-- The key is computed by the app; for the accounts made before this migration the migrator fills it right after
-- applying this file (Migrator.KeyEmailsAsync): oldest account first, and a later account whose key an older one
-- already has keeps its row, reservations and tickets but no key, so it cannot sign in by that address until an
-- operator resolves it (README runbook).
alter table users add column email_key text null;
alter table users add constraint users_email_key_with_email check (email is not null or email_key is null);
drop index users_email_unique;
create unique index users_email_key_unique on users (email_key) where email_key is not null;
