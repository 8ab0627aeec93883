-- When the Society's page editors were last reminded that their published
-- card has not been confirmed for a year.
ALTER TABLE society_cards ADD COLUMN reminded_at timestamptz;

-- Example drafts (`familylinks dev` seeds them, to show the back office):
-- the database itself refuses to publish one, so the public never sees
-- example data. Additive only.
ALTER TABLE society_cards ADD COLUMN example boolean NOT NULL DEFAULT false;
ALTER TABLE society_cards ADD CONSTRAINT society_cards_example_never_published CHECK (NOT example OR status <> 'published');
