-- Enquiries from the contact form and from Trace the Face photos, their
-- history, and each inbox's settings. Personal data is sealed (AES-256-GCM)
-- by the application before it reaches this database.

CREATE TABLE inboxes (
    code               text PRIMARY KEY CHECK (code ~ '^([a-z]{2}|icrc|icrc-[a-z0-9-]{2,40})$'),
    notification_email text,
    switched_off       boolean NOT NULL DEFAULT false,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    updated_by         bigint REFERENCES staff (id)
);

CREATE TABLE enquiries (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    reference    text NOT NULL UNIQUE,
    kind         text NOT NULL CHECK (kind IN ('residence', 'gallery')),
    residence    text NOT NULL CHECK (residence ~ '^[a-z]{2}$'),
    lang         text NOT NULL,
    inbox        text NOT NULL,
    route_reason text NOT NULL,
    route_note   text NOT NULL,
    gallery_ref  text,
    relationship text NOT NULL,
    circumstance text NOT NULL,
    status       text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'in_progress', 'closed')),
    outcome      text CHECK (outcome IN ('contact_restored', 'referred', 'no_result', 'declined')),
    key_id       text,
    sealed       bytea,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    closed_at    timestamptz,
    purged_at    timestamptz,
    CHECK ((status = 'closed') = (closed_at IS NOT NULL)),
    CHECK ((status = 'closed') = (outcome IS NOT NULL)),
    CHECK ((purged_at IS NULL) = (sealed IS NOT NULL))
);
CREATE INDEX enquiries_inbox ON enquiries (inbox, status, created_at DESC);
CREATE INDEX enquiries_closed ON enquiries (closed_at) WHERE purged_at IS NULL AND closed_at IS NOT NULL;
CREATE INDEX enquiries_key ON enquiries (key_id);

CREATE TABLE enquiry_events (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    enquiry_id bigint NOT NULL REFERENCES enquiries (id) ON DELETE CASCADE,
    at         timestamptz NOT NULL DEFAULT now(),
    staff_id   bigint REFERENCES staff (id),
    kind       text NOT NULL CHECK (kind IN ('note', 'status', 'transfer')),
    status     text,
    outcome    text,
    from_inbox text,
    to_inbox   text,
    -- The note's text or the transfer's reason: free text, so sealed.
    key_id     text,
    sealed     bytea
);
CREATE INDEX enquiry_events_enquiry ON enquiry_events (enquiry_id, id);
CREATE INDEX enquiry_events_key ON enquiry_events (key_id);

---- create above / drop below ----

DROP TABLE enquiry_events;
DROP TABLE enquiries;
DROP TABLE inboxes;
