-- The store refuses a report sealed to a retired key, in the statement that
-- writes it. The server also checks a key before it queues a report, but it
-- remembers keys it has seen valid (so that intake does not ask the database
-- every time), and a key can be retired meanwhile by an admin command or
-- another instance: this trigger is what makes retirement take effect at
-- once. The foreign key on reports already refuses a key that was never
-- registered. The error is a check violation naming the trigger, so the
-- server can tell it from any other.
CREATE FUNCTION reports_refuse_retired_key() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM force_keys
        WHERE force_id = NEW.force_id AND key_id = NEW.key_id AND status = 'retired'
    ) THEN
        RAISE EXCEPTION 'the key is retired'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'reports_refuse_retired_key';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER reports_refuse_retired_key
BEFORE INSERT ON reports
FOR EACH ROW EXECUTE FUNCTION reports_refuse_retired_key();
