-- Capture, third version: the same events as V3 at a lower cost. V1-V3 stay as they ran.
--
-- 1. The accounts UPDATE trigger becomes a row-level trigger whose WHEN clause compares the captured
--    tuple (V2's columns plus id). An update that changes none of them (last_used_at, updated_at, a
--    token refresh in credentials outside model_mapping, extra outside mixed_scheduling) queues no
--    trigger event and runs no function; only the transition tables are still filled.
-- 2. One event per statement as before: the statement's first firing computes V3's event from the
--    transition tables and leaves the number of firings still to come in a transaction-local setting
--    keyed by trigger depth (so an UPDATE nested in another trigger keeps its own count); those
--    firings only count down. The count is the number of new rows without an equal old row of the
--    same id, which is never more than the firings (a row without one did fire), so a count can never
--    swallow the next statement's first firing; it is exact unless a statement swaps primary keys, in
--    which case a later firing computes (and may emit) the same event again.
-- 3. A one-row statement that keeps its id (the common case: a status, a cooldown, a priority) skips
--    the join: OLD and NEW are the whole change, and the event is one INSERT. The wake-up NOTIFY is
--    sent by the capture function itself, and the outbox wake trigger gets a WHEN clause, so a
--    transaction that already notified runs no wake function at all.

CREATE FUNCTION roster_capture_accounts_update_row() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    left_key text := 'roster.capture_rows_left_' || pg_trigger_depth();
    rows_left bigint := coalesce(nullif(current_setting(left_key, true), ''), '0')::bigint;
    ids bigint[];
    plats text[];
    firings bigint;
BEGIN
    IF rows_left > 0 THEN
        PERFORM set_config(left_key, (rows_left - 1)::text, true);
        RETURN NULL;
    END IF;
    IF OLD.id = NEW.id AND (SELECT count(*) FROM roster_new) = 1 THEN
        IF current_setting('roster.outbox_notified', true) IS DISTINCT FROM 'on' THEN
            PERFORM set_config('roster.outbox_notified', 'on', true);
            PERFORM pg_notify('roster_outbox', '');
        END IF;
        INSERT INTO scheduler_outbox (event_type, account_id, payload)
        VALUES ('account_changed', NEW.id,
                jsonb_build_object(
                    'group_ids', coalesce((SELECT jsonb_agg(ag.group_id ORDER BY ag.group_id)
                                             FROM account_groups ag WHERE ag.account_id = NEW.id), '[]'::jsonb),
                    'platforms', CASE WHEN OLD.platform IS DISTINCT FROM NEW.platform
                                      THEN jsonb_build_array(least(OLD.platform, NEW.platform),
                                                             greatest(OLD.platform, NEW.platform))
                                      ELSE '[]'::jsonb END));
        RETURN NULL;
    END IF;
    -- V3's comparison, over the whole statement.
    WITH changed AS (
        SELECT o.id AS old_id, n.id AS new_id, o.platform AS old_platform, n.platform AS new_platform
          FROM roster_old o
          FULL JOIN roster_new n ON n.id = o.id
         WHERE o.id IS NULL OR n.id IS NULL
            OR (o.name, o.platform, o.type, o.status, o.schedulable, o.priority, o.concurrency,
                o.rate_limit_reset_at, o.overload_until, o.temp_unschedulable_until, o.expires_at,
                o.auto_pause_on_expired, o.deleted_at, o.extra -> 'mixed_scheduling',
                o.credentials -> 'model_mapping')
               IS DISTINCT FROM
               (n.name, n.platform, n.type, n.status, n.schedulable, n.priority, n.concurrency,
                n.rate_limit_reset_at, n.overload_until, n.temp_unschedulable_until, n.expires_at,
                n.auto_pause_on_expired, n.deleted_at, n.extra -> 'mixed_scheduling',
                n.credentials -> 'model_mapping'))
    SELECT (SELECT array_agg(DISTINCT coalesce(c.new_id, c.old_id) ORDER BY coalesce(c.new_id, c.old_id))
              FROM changed c),
           (SELECT array_agg(DISTINCT p)
              FROM (SELECT c.old_platform AS p FROM changed c
                     WHERE c.old_platform IS DISTINCT FROM c.new_platform
                    UNION SELECT c.new_platform FROM changed c
                     WHERE c.old_platform IS DISTINCT FROM c.new_platform) u),
           (SELECT count(*) FROM changed c WHERE c.new_id IS NOT NULL)
      INTO ids, plats, firings;
    PERFORM set_config(left_key, greatest(firings - 1, 0)::text, true);
    PERFORM roster_emit_accounts(ids, plats);
    RETURN NULL;
END
$$;

DROP TRIGGER roster_capture_update ON accounts;
DROP FUNCTION roster_capture_accounts_update();

-- The WHEN tuple is the compared tuple of V2 and V3 plus id (an id change is a change of two ids).
CREATE TRIGGER roster_capture_update AFTER UPDATE ON accounts
    REFERENCING OLD TABLE AS roster_old NEW TABLE AS roster_new
    FOR EACH ROW
    WHEN ((OLD.id, OLD.name, OLD.platform, OLD.type, OLD.status, OLD.schedulable, OLD.priority,
           OLD.concurrency, OLD.rate_limit_reset_at, OLD.overload_until, OLD.temp_unschedulable_until,
           OLD.expires_at, OLD.auto_pause_on_expired, OLD.deleted_at, OLD.extra -> 'mixed_scheduling',
           OLD.credentials -> 'model_mapping')
          IS DISTINCT FROM
          (NEW.id, NEW.name, NEW.platform, NEW.type, NEW.status, NEW.schedulable, NEW.priority,
           NEW.concurrency, NEW.rate_limit_reset_at, NEW.overload_until, NEW.temp_unschedulable_until,
           NEW.expires_at, NEW.auto_pause_on_expired, NEW.deleted_at, NEW.extra -> 'mixed_scheduling',
           NEW.credentials -> 'model_mapping'))
    EXECUTE FUNCTION roster_capture_accounts_update_row();

-- Same function as V2; the WHEN clause spares the call once the transaction has notified.
DROP TRIGGER roster_outbox_wake ON scheduler_outbox;
CREATE TRIGGER roster_outbox_wake AFTER INSERT ON scheduler_outbox
    FOR EACH STATEMENT
    WHEN (current_setting('roster.outbox_notified', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION roster_outbox_wake();
