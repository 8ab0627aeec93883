-- When the Society's page editors were last reminded that their published
-- card has not been confirmed for a year. Additive only.
ALTER TABLE society_cards ADD COLUMN reminded_at timestamptz;
