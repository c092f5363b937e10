-- The store refuses a report sealed to a retired key, in the transaction that
-- writes it. The server also checks a key before it queues a report, but it
-- remembers keys it has seen valid (so that intake does not ask the database
-- every time), and a key can be retired meanwhile by an admin command in
-- another process: this trigger is what makes retirement take effect at once,
-- for every instance sharing the database. The foreign key on reports already
-- refuses a key that was never registered.
CREATE TRIGGER reports_refuse_retired_key
BEFORE INSERT ON reports
WHEN EXISTS (
    SELECT 1 FROM force_keys
    WHERE force_id = NEW.force_id AND key_id = NEW.key_id AND status = 'retired'
)
BEGIN
    SELECT RAISE(ABORT, 'reports_refuse_retired_key: the key is retired');
END;
