-- Staff accounts, server-side sessions, the audit log, the transactional
-- outbox and the shared rate-limit counters.

CREATE TABLE staff (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         text NOT NULL CHECK (email = lower(email) AND email <> ''),
    -- The inbox a caseworker works in: a Society by its country's ISO
    -- 3166-1 alpha-2 code, an ICRC delegation ("icrc-…") or ICRC central
    -- tracing ("icrc"); NULL only for administrators, who see every inbox.
    society       text CHECK (society ~ '^([a-z]{2}|icrc|icrc-[a-z0-9-]{2,40})$'),
    role          text NOT NULL CHECK (role IN ('caseworker', 'admin')),
    password_hash text NOT NULL,
    -- Set for a one-time password: the account must choose its own first.
    must_change_password boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    disabled_at   timestamptz,
    CHECK (role = 'admin' OR society IS NOT NULL)
);
CREATE UNIQUE INDEX staff_email ON staff (email);

CREATE TABLE sessions (
    -- SHA-256 of the token in the cookie: a leaked table opens no session.
    id_hash      bytea PRIMARY KEY,
    staff_id     bigint REFERENCES staff (id) ON DELETE CASCADE,
    csrf_token   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE INDEX sessions_staff ON sessions (staff_id);

CREATE TABLE audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    staff_id    bigint REFERENCES staff (id),
    actor       text NOT NULL,          -- the e-mail typed or the account's, at the time
    society     text,                   -- the Society whose data was seen or changed
    action      text NOT NULL,
    object_type text NOT NULL DEFAULT '',
    object_id   text NOT NULL DEFAULT '',
    ip          inet,
    detail      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_staff ON audit_log (staff_id, at);

CREATE TABLE outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    topic           text NOT NULL,
    payload         jsonb NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    locked_until    timestamptz,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    done_at         timestamptz
);
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE done_at IS NULL;

CREATE TABLE rate_limits (
    key          text PRIMARY KEY,
    window_start timestamptz NOT NULL,
    count        integer NOT NULL
);

---- create above / drop below ----

DROP TABLE rate_limits;
DROP TABLE outbox;
DROP TABLE audit_log;
DROP TABLE sessions;
DROP TABLE staff;
