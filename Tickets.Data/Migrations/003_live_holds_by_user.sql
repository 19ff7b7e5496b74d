-- The per-user cap on live holds counts a user's holds across events on every hold.
create index reservations_live_holds_by_user on reservations (user_id) where status = 'HOLD';
