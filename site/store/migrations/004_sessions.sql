-- Sessions that every credential change ends, one-time passwords that
-- expire, and rate-limit counters keyed by a keyed hash instead of a
-- visitor's address. Written so that the previous release keeps working
-- against it during a rolling upgrade: columns are added with defaults,
-- nothing it writes is refused.

-- Bumped by every password change, reset and disable. A session is valid
-- only while it carries its account's current epoch, so a credential change
-- ends every session, even one being created by a sign-in in flight.
ALTER TABLE staff ADD COLUMN session_epoch bigint NOT NULL DEFAULT 0;
-- When a one-time password stops opening the account (NULL: a password the
-- account chose, which does not expire).
ALTER TABLE staff ADD COLUMN password_expires_at timestamptz;
-- One-time passwords already handed out get the full 72 hours from now.
UPDATE staff SET password_expires_at = now() + interval '72 hours' WHERE must_change_password;

ALTER TABLE sessions ADD COLUMN epoch bigint NOT NULL DEFAULT 0;
-- The login form no longer needs a row: its CSRF token is a signed cookie.
DELETE FROM sessions WHERE staff_id IS NULL;

-- Counters were keyed by raw client addresses; they are now keyed by an
-- HMAC of them (store/ratelimit.go). Forget the old ones.
DELETE FROM rate_limits;
CREATE INDEX rate_limits_window ON rate_limits (window_start);

-- Finished outbox rows are deleted after some days (store/cleanup.go).
CREATE INDEX outbox_done ON outbox (done_at) WHERE done_at IS NOT NULL;
-- Audit addresses are erased after their retention period.
CREATE INDEX audit_log_ip_at ON audit_log (at) WHERE ip IS NOT NULL;

---- create above / drop below ----

DROP INDEX audit_log_ip_at;
DROP INDEX outbox_done;
DROP INDEX rate_limits_window;
ALTER TABLE sessions DROP COLUMN epoch;
ALTER TABLE staff DROP COLUMN password_expires_at;
ALTER TABLE staff DROP COLUMN session_epoch;
