-- Trace the Face: entries published by a Society's staff with the person's
-- consent, and their photos (re-encoded derivatives only). The publishing
-- Society, the case reference and the consent record never leave the back
-- office; the index holds public fields only.

CREATE TABLE gallery_entries (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ref                  text NOT NULL UNIQUE CHECK (ref ~ '^TTF-[0-9A-Z]{5,8}$'),
    society              text NOT NULL CHECK (society ~ '^[a-z]{2}$'),
    status               text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'published', 'withdrawn')),
    gender               text NOT NULL CHECK (gender IN ('female', 'male', 'other')),
    age_group            text NOT NULL CHECK (age_group IN ('15-17', '18-29', '30-44', '45-59', '60+')),
    seeking              text[] NOT NULL CHECK (cardinality(seeking) BETWEEN 1 AND 14),
    origin               text NOT NULL CHECK (origin ~ '^[a-z]{2}$'),
    languages            text[] NOT NULL DEFAULT '{}',
    case_key_id          text NOT NULL,
    case_sealed          bytea NOT NULL,
    consent_date         date NOT NULL,
    consent_form_version text NOT NULL,
    consent_recorded_by  text NOT NULL,
    review_date          date NOT NULL,
    created_by           bigint NOT NULL REFERENCES staff (id),
    approved_by          bigint REFERENCES staff (id),
    created_at           timestamptz NOT NULL DEFAULT now(),
    published_at         timestamptz,
    withdrawn_at         timestamptz,
    withdraw_reason      text CHECK (withdraw_reason IN ('consent_withdrawn', 'family_found', 'review_expired', 'other')),
    demo                 boolean NOT NULL DEFAULT false,
    -- Publication needs a second person of the same Society.
    CHECK (approved_by IS NULL OR approved_by <> created_by),
    CHECK ((status = 'published') = (published_at IS NOT NULL AND withdrawn_at IS NULL)),
    CHECK ((status = 'withdrawn') = (withdrawn_at IS NOT NULL AND withdraw_reason IS NOT NULL))
);
CREATE INDEX gallery_published ON gallery_entries (published_at DESC) WHERE status = 'published';
CREATE INDEX gallery_society ON gallery_entries (society, status);
CREATE INDEX gallery_review ON gallery_entries (review_date) WHERE status = 'published';
-- The public count of families reunited, read on every gallery page.
CREATE INDEX gallery_found ON gallery_entries (id) WHERE withdraw_reason = 'family_found' AND NOT demo;

CREATE TABLE gallery_photos (
    entry_id bigint NOT NULL REFERENCES gallery_entries (id) ON DELETE CASCADE,
    width    integer NOT NULL,
    height   integer NOT NULL,
    jpeg     bytea NOT NULL,
    etag     text NOT NULL,
    PRIMARY KEY (entry_id, width)
);

---- create above / drop below ----

DROP TABLE gallery_photos;
DROP TABLE gallery_entries;
