-- Capture, fourth version: the same events as V3 and V4, and an update the triggers ignore no longer
-- pays for transition tables. V1-V4 stay as they ran.
--
-- V4's row-level trigger declared REFERENCING OLD TABLE ... NEW TABLE, and PostgreSQL fills both
-- transition tables for every updated row of accounts as long as any UPDATE trigger of the table
-- declares them, whether or not its WHEN clause fires: an ignored update (last_used_at, updated_at, a
-- token refresh) still copied its row twice. Here no UPDATE trigger of accounts declares them.
--
-- 1. A BEFORE row-level trigger with V4's WHEN clause (the captured columns plus id) notes the ids of
--    the rows that change, and their old and new platforms when those differ, in transaction-local
--    settings keyed by trigger depth (so an UPDATE nested in another trigger keeps its own). Past
--    8,000 characters of ids a statement's further ids go to a temporary table instead, so a bulk
--    statement does not copy an ever longer string per row.
-- 2. An AFTER statement-level trigger, guarded by a WHEN on a transaction-local flag the row trigger
--    sets (an ignored statement only evaluates that WHEN), turns the notes of its depth into one event
--    with V3's function, as V4 did, and clears them. The row trigger is a BEFORE trigger because a
--    statement trigger's WHEN is evaluated when its event is queued, at the end of the statement but
--    before any AFTER row trigger has run; BEFORE row triggers have run by then. A note taken for a
--    row that then fails makes the statement fail, and the settings roll back with it; a row another
--    BEFORE trigger skips is named anyway, which costs one needless re-read. The flag stays set for the rest of the transaction: a
--    nested statement must not clear it under an outer statement whose notes are still to come.
-- An id change names the old and the new id, and both platforms, as V4's join by id did.

CREATE FUNCTION roster_capture_accounts_note_row() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    depth text := pg_trigger_depth()::text;
    ids_key text := 'roster.capture_ids_' || depth;
    plats_key text := 'roster.capture_plats_' || depth;
    spill_key text := 'roster.capture_spill_' || depth;
    noted text := coalesce(current_setting(ids_key, true), '');
    row_ids text := NEW.id::text || CASE WHEN OLD.id <> NEW.id THEN ',' || OLD.id::text ELSE '' END;
BEGIN
    IF length(noted) < 8000 THEN
        PERFORM set_config(ids_key, CASE WHEN noted = '' THEN row_ids ELSE noted || ',' || row_ids END, true);
    ELSE
        IF current_setting(spill_key, true) IS DISTINCT FROM 'on' THEN
            IF to_regclass('pg_temp.roster_capture_spill') IS NULL THEN
                CREATE TEMPORARY TABLE roster_capture_spill (depth int NOT NULL, id bigint NOT NULL)
                    ON COMMIT DELETE ROWS;
            END IF;
            PERFORM set_config(spill_key, 'on', true);
        END IF;
        INSERT INTO pg_temp.roster_capture_spill (depth, id) VALUES (pg_trigger_depth(), NEW.id);
        IF OLD.id <> NEW.id THEN
            INSERT INTO pg_temp.roster_capture_spill (depth, id) VALUES (pg_trigger_depth(), OLD.id);
        END IF;
    END IF;
    IF OLD.platform IS DISTINCT FROM NEW.platform OR OLD.id <> NEW.id THEN
        PERFORM set_config(plats_key,
                           concat_ws(',', nullif(current_setting(plats_key, true), ''), OLD.platform, NEW.platform),
                           true);
    END IF;
    IF current_setting('roster.capture_noted', true) IS DISTINCT FROM 'on' THEN
        PERFORM set_config('roster.capture_noted', 'on', true);
    END IF;
    RETURN NEW;
END
$$;

CREATE FUNCTION roster_capture_accounts_emit_statement() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    depth text := pg_trigger_depth()::text;
    ids_key text := 'roster.capture_ids_' || depth;
    plats_key text := 'roster.capture_plats_' || depth;
    spill_key text := 'roster.capture_spill_' || depth;
    noted text := coalesce(current_setting(ids_key, true), '');
    ids bigint[];
    plats text[];
BEGIN
    IF noted = '' THEN
        RETURN NULL;
    END IF;
    ids := string_to_array(noted, ',')::bigint[];
    IF current_setting(spill_key, true) = 'on' THEN
        ids := ids || ARRAY(SELECT s.id FROM pg_temp.roster_capture_spill s WHERE s.depth = pg_trigger_depth());
        DELETE FROM pg_temp.roster_capture_spill s WHERE s.depth = pg_trigger_depth();
        PERFORM set_config(spill_key, '', true);
    END IF;
    IF cardinality(ids) > 1 THEN
        ids := ARRAY(SELECT DISTINCT i FROM unnest(ids) i ORDER BY i);
    END IF;
    plats := string_to_array(nullif(current_setting(plats_key, true), ''), ',');
    PERFORM set_config(ids_key, '', true);
    PERFORM set_config(plats_key, '', true);
    -- The wake-up is sent here, as V4's row function did, so the outbox wake trigger's WHEN spares its call.
    IF current_setting('roster.outbox_notified', true) IS DISTINCT FROM 'on' THEN
        PERFORM set_config('roster.outbox_notified', 'on', true);
        PERFORM pg_notify('roster_outbox', '');
    END IF;
    PERFORM roster_emit_accounts(ids, plats);
    RETURN NULL;
END
$$;

DROP TRIGGER roster_capture_update ON accounts;
DROP FUNCTION roster_capture_accounts_update_row();

-- The WHEN tuple is V4's: the compared tuple of V2 and V3 plus id.
CREATE TRIGGER roster_capture_update BEFORE UPDATE ON accounts
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
    EXECUTE FUNCTION roster_capture_accounts_note_row();

CREATE TRIGGER roster_capture_update_statement AFTER UPDATE ON accounts
    FOR EACH STATEMENT
    WHEN (current_setting('roster.capture_noted', true) = 'on')
    EXECUTE FUNCTION roster_capture_accounts_emit_statement();
