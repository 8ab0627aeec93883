-- Each National Society's family-links contact card, kept by its own staff:
-- every saved version is a row. One person saves a draft, a different
-- person publishes it; a published version stays until the next one is
-- published, and every version is kept (history, restore). Additive only:
-- the previous release ignores the table during a rolling upgrade.
CREATE TABLE society_cards (
    id            bigserial PRIMARY KEY,
    society       text NOT NULL CHECK (society ~ '^[a-z]{2}$'),
    status        text NOT NULL CHECK (status IN ('draft', 'published', 'superseded', 'rejected', 'withdrawn')),
    -- The card as staff typed it (site/cards.Card), phone numbers in E.164.
    card          jsonb NOT NULL,
    -- The notes rendered to sanitised HTML when the version was published.
    notes_html    jsonb,
    saved_by      bigint NOT NULL REFERENCES staff (id),
    saved_at      timestamptz NOT NULL DEFAULT now(),
    decided_by    bigint REFERENCES staff (id),
    decided_at    timestamptz,
    -- Set when published, and again by "still correct".
    confirmed_at  timestamptz,
    restored_from bigint REFERENCES society_cards (id),
    -- Four eyes, held by the database too: nobody publishes their own draft.
    CHECK (status <> 'published' OR decided_by IS DISTINCT FROM saved_by)
);
CREATE INDEX society_cards_by_society ON society_cards (society, id DESC);
CREATE UNIQUE INDEX society_cards_one_published ON society_cards (society) WHERE status = 'published';

-- Page editors keep their Society's card; an account may be caseworker,
-- page editor or both. Administrators edit every Society's card.
ALTER TABLE staff ADD COLUMN page_editor boolean NOT NULL DEFAULT false;
