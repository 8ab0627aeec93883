-- A back office the whole network runs itself: each account's language, a
-- second factor (TOTP) with recovery codes, Society administrators who
-- invite and manage their own Society's accounts, and a per-Society rule
-- that every account must use a second factor.

-- The language of the account's back-office pages and e-mails (a URL code
-- of locales.Languages, for example "ar" or "prs").
ALTER TABLE staff ADD COLUMN language text NOT NULL DEFAULT 'en'
    CHECK (language ~ '^[a-z]{2,3}$');

-- A Society administrator manages the accounts of its own Society (the
-- existing CHECK keeps society NOT NULL for every role but 'admin').
ALTER TABLE staff DROP CONSTRAINT staff_role_check;
ALTER TABLE staff ADD CONSTRAINT staff_role_check
    CHECK (role IN ('caseworker', 'society_admin', 'admin'));

-- The TOTP secret, sealed with the site's keyring and bound to this row
-- (crypt.StaffTOTP). While totp_enabled_at is NULL it is an enrolment not
-- yet confirmed by a code. totp_last_step is the last time step a code was
-- accepted for: a code is good once.
ALTER TABLE staff
    ADD COLUMN totp_key_id text,
    ADD COLUMN totp_sealed bytea,
    ADD COLUMN totp_enabled_at timestamptz,
    ADD COLUMN totp_last_step bigint NOT NULL DEFAULT 0,
    ADD CONSTRAINT staff_totp_sealed CHECK ((totp_sealed IS NULL) = (totp_key_id IS NULL)),
    ADD CONSTRAINT staff_totp_enabled CHECK (totp_enabled_at IS NULL OR totp_sealed IS NOT NULL);

-- Ten single-use recovery codes per account, as SHA-256 of the code (each
-- has 80 random bits: a hash is enough, no password hash is needed).
CREATE TABLE staff_recovery_codes (
    staff_id  bigint NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    code_hash bytea NOT NULL,
    used_at   timestamptz,
    PRIMARY KEY (staff_id, code_hash)
);

-- Rules a Society sets for its own accounts.
CREATE TABLE society_policies (
    society      text PRIMARY KEY CHECK (society ~ '^([a-z]{2}|icrc|icrc-[a-z0-9-]{2,40})$'),
    require_totp boolean NOT NULL DEFAULT false,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- An invitation to open an account in a Society: a single-use link whose
-- token only the invitee's mail holds (here its SHA-256), good for 72 hours.
CREATE TABLE staff_invitations (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash  bytea NOT NULL UNIQUE,
    email       text NOT NULL CHECK (email = lower(email) AND email <> ''),
    society     text NOT NULL CHECK (society ~ '^([a-z]{2}|icrc|icrc-[a-z0-9-]{2,40})$'),
    role        text NOT NULL CHECK (role IN ('caseworker', 'society_admin')),
    page_editor boolean NOT NULL DEFAULT false,
    invited_by  bigint REFERENCES staff (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    accepted_at timestamptz,
    revoked_at  timestamptz,
    staff_id    bigint REFERENCES staff (id)
);
CREATE INDEX staff_invitations_society ON staff_invitations (society, id DESC);

---- create above / drop below ----

DROP TABLE staff_invitations;
DROP TABLE society_policies;
DROP TABLE staff_recovery_codes;
ALTER TABLE staff DROP COLUMN totp_last_step, DROP COLUMN totp_enabled_at,
    DROP COLUMN totp_sealed, DROP COLUMN totp_key_id;
UPDATE staff SET role = 'caseworker' WHERE role = 'society_admin';
ALTER TABLE staff DROP CONSTRAINT staff_role_check;
ALTER TABLE staff ADD CONSTRAINT staff_role_check CHECK (role IN ('caseworker', 'admin'));
ALTER TABLE staff DROP COLUMN language;
