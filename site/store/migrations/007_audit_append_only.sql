-- The audit log is append-only, whoever connects: the database refuses to
-- change an entry or to delete one younger than a year, so that "who saw
-- this person's data?" keeps its answer even if the application is
-- misused. Two changes stay possible, both made by the cleanup worker:
-- forgetting an entry's client address (FAMILYLINKS_AUDIT_ADDRESS_DAYS),
-- and deleting entries past FAMILYLINKS_AUDIT_KEEP_DAYS, which may not be
-- less than a year. TRUNCATE is refused too.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.ip IS NULL
           AND (NEW.id, NEW.at, NEW.staff_id, NEW.actor, NEW.society, NEW.action, NEW.object_type, NEW.object_id, NEW.detail)
               IS NOT DISTINCT FROM
               (OLD.id, OLD.at, OLD.staff_id, OLD.actor, OLD.society, OLD.action, OLD.object_type, OLD.object_id, OLD.detail) THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'audit_log is append-only: only an entry''s client address may be forgotten'
            USING ERRCODE = 'insufficient_privilege';
    ELSIF TG_OP = 'DELETE' THEN
        IF OLD.at < now() - interval '365 days' THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'audit_log is append-only: an entry younger than a year is never deleted'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- The audit page filters by Society, person, action and object.
CREATE INDEX audit_log_society ON audit_log (society, id DESC);
CREATE INDEX audit_log_object ON audit_log (object_type, object_id, id DESC);
