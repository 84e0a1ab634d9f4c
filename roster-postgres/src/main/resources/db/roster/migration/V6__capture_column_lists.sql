-- Capture of account updates, fourth version: the events of V3-V5 at a fraction of the cost
-- (decisions CP1-CP3). V1-V5 stay as they ran; INSERT, DELETE and TRUNCATE capture are unchanged.
--
-- What V4/V5 paid for: PostgreSQL rebuilds a trigger's WHEN clause for every statement that reaches
-- it (the stored expression is read back from its text form, simplified and compiled before the
-- first row is tested), and V5's 20-column comparison made that more work than the update itself,
-- for every update of accounts, ignored or not. Its REFERENCING clause also copied every updated row
-- into two transition tables.
--
-- 1. The pre-filter is the triggers' column list (UPDATE OF): an UPDATE whose SET names none of the
--    captured columns (last_used_at, updated_at) fires no capture trigger and evaluates nothing.
--    PostgreSQL tests the list against the statement's SET list, so a column changed only by another
--    BEFORE UPDATE trigger would not be seen; Roster defines none on accounts.
-- 2. The comparison of the captured tuple (V5's, plus id) moves into the row function, where
--    PL/pgSQL keeps it compiled. A statement that names a captured column without changing it (a
--    token refresh in credentials, an extra key other than mixed_scheduling, a no-op SET) runs the
--    comparison and writes nothing.
-- 3. No UPDATE trigger of accounts declares transition tables (PostgreSQL would fill them for every
--    updated row as long as one does), so one event per statement is assembled without them: the
--    first changed row of a statement writes its account_changed at once (the common case, one
--    INSERT); further changed rows note their ids in transaction-local settings; a statement-level
--    trigger with the same column list, which fires after all row triggers of its statement, then
--    either forgets the first event's mark (one row changed) or replaces that event by one event for
--    all noted ids with V3's roster_emit_accounts. The settings are keyed by trigger depth, so an
--    UPDATE of accounts run by another trigger keeps its own notes, and they vanish with the
--    transaction (or the subtransaction) they were set in.

DROP TRIGGER roster_capture_update ON accounts;

CREATE OR REPLACE FUNCTION roster_capture_accounts_update_row() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    depth text := pg_trigger_depth()::text;
    written text;
    noted text;
    chunks integer;
    plats text;
    ignored text;
BEGIN
    -- The captured tuple in two comparisons: PL/pgSQL prepares an expression when a transaction first
    -- evaluates it, so an update of one of the columns that change most (status, cooldowns, priority)
    -- never prepares the second, longer one.
    IF (OLD.status, OLD.schedulable, OLD.priority, OLD.rate_limit_reset_at, OLD.overload_until,
        OLD.temp_unschedulable_until)
       IS NOT DISTINCT FROM
       (NEW.status, NEW.schedulable, NEW.priority, NEW.rate_limit_reset_at, NEW.overload_until,
        NEW.temp_unschedulable_until) THEN
        IF (OLD.id, OLD.name, OLD.platform, OLD.type, OLD.concurrency, OLD.expires_at,
            OLD.auto_pause_on_expired, OLD.deleted_at, OLD.extra -> 'mixed_scheduling',
            OLD.credentials -> 'model_mapping', OLD.rpm_limit, OLD.weight, OLD.quota_threshold_5h,
            OLD.quota_threshold_7d)
           IS NOT DISTINCT FROM
           (NEW.id, NEW.name, NEW.platform, NEW.type, NEW.concurrency, NEW.expires_at,
            NEW.auto_pause_on_expired, NEW.deleted_at, NEW.extra -> 'mixed_scheduling',
            NEW.credentials -> 'model_mapping', NEW.rpm_limit, NEW.weight, NEW.quota_threshold_5h,
            NEW.quota_threshold_7d) THEN
            RETURN NULL;
        END IF;
    END IF;
    IF coalesce(current_setting('roster.capture_event_' || depth, true), '') = '' AND OLD.id = NEW.id THEN
        -- The statement's first changed row: its event as if it were the only one. The NOTIFY is
        -- sent here, behind V2's guard, so that the outbox wake trigger's WHEN spares its call.
        IF current_setting('roster.outbox_notified', true) IS DISTINCT FROM 'on' THEN
            ignored := set_config('roster.outbox_notified', 'on', true);
            PERFORM pg_notify('roster_outbox', '');
        END IF;
        INSERT INTO scheduler_outbox (event_type, account_id, payload)
        VALUES ('account_changed', NEW.id,
                jsonb_build_object(
                    'group_ids', to_jsonb(ARRAY(SELECT ag.group_id FROM account_groups ag
                                                 WHERE ag.account_id = NEW.id ORDER BY ag.group_id)),
                    'platforms', CASE WHEN OLD.platform IS DISTINCT FROM NEW.platform
                                      THEN jsonb_build_array(least(OLD.platform, NEW.platform),
                                                             greatest(OLD.platform, NEW.platform))
                                      ELSE '[]'::jsonb END))
        RETURNING id::text INTO written;
        ignored := set_config('roster.capture_event_' || depth, written, true);
        RETURN NULL;
    END IF;
    -- A further changed row (or one whose id changed, which names two ids): noted for the statement
    -- trigger. Ids go to a comma-separated setting that is moved aside every 4,000 characters, so a
    -- statement over many rows copies a short string per row rather than an ever longer one.
    noted := current_setting('roster.capture_ids_' || depth, true);
    IF length(noted) >= 4000 THEN
        chunks := coalesce(nullif(current_setting('roster.capture_chunks_' || depth, true), ''), '0')::integer + 1;
        ignored := set_config('roster.capture_chunk_' || depth || '_' || chunks, noted, true);
        ignored := set_config('roster.capture_chunks_' || depth, chunks::text, true);
        noted := '';
    END IF;
    ignored := set_config('roster.capture_ids_' || depth,
                          concat_ws(',', nullif(noted, ''), NEW.id,
                                    CASE WHEN OLD.id <> NEW.id THEN OLD.id END), true);
    -- As V3's join by id: a row whose platform or id changed names its old and new platform.
    -- Platform names cannot hold a comma (account_platform_must_match_pattern).
    IF OLD.platform IS DISTINCT FROM NEW.platform OR OLD.id <> NEW.id THEN
        plats := coalesce(nullif(current_setting('roster.capture_platforms_' || depth, true), ''), ',');
        IF strpos(plats, ',' || OLD.platform || ',') = 0 THEN
            plats := plats || OLD.platform || ',';
        END IF;
        IF strpos(plats, ',' || NEW.platform || ',') = 0 THEN
            plats := plats || NEW.platform || ',';
        END IF;
        ignored := set_config('roster.capture_platforms_' || depth, plats, true);
    END IF;
    RETURN NULL;
END
$$;

-- Fires after every row trigger of its statement. One changed row: its event is written, the mark
-- goes. Several: the first row's event (if one was written) is taken back and one event names them
-- all, with the platforms of both; roster_emit_accounts writes account_changed when the ids come
-- down to one.
CREATE FUNCTION roster_capture_accounts_update_statement() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    depth text := pg_trigger_depth()::text;
    noted text := current_setting('roster.capture_ids_' || depth, true);
    written text;
    chunks integer;
    plats text[];
    first_id bigint;
    first_platforms jsonb;
    ids bigint[];
    ignored text;
BEGIN
    IF noted IS NULL OR noted = '' THEN
        ignored := set_config('roster.capture_event_' || depth, '', true);
        RETURN NULL;
    END IF;
    written := current_setting('roster.capture_event_' || depth, true);
    ignored := set_config('roster.capture_event_' || depth, '', true);
    ignored := set_config('roster.capture_ids_' || depth, '', true);
    chunks := coalesce(nullif(current_setting('roster.capture_chunks_' || depth, true), ''), '0')::integer;
    IF chunks > 0 THEN
        FOR k IN 1..chunks LOOP
            noted := noted || ',' || current_setting('roster.capture_chunk_' || depth || '_' || k);
            ignored := set_config('roster.capture_chunk_' || depth || '_' || k, '', true);
        END LOOP;
        ignored := set_config('roster.capture_chunks_' || depth, '', true);
    END IF;
    plats := array_remove(string_to_array(current_setting('roster.capture_platforms_' || depth, true), ','), '');
    ignored := set_config('roster.capture_platforms_' || depth, '', true);
    IF written <> '' THEN
        DELETE FROM scheduler_outbox WHERE id = written::bigint
            RETURNING account_id, payload -> 'platforms' INTO first_id, first_platforms;
        noted := noted || ',' || first_id;
        plats := plats || ARRAY(SELECT jsonb_array_elements_text(first_platforms));
    END IF;
    SELECT array_agg(DISTINCT i ORDER BY i) INTO ids FROM unnest(string_to_array(noted, ',')::bigint[]) i;
    PERFORM roster_emit_accounts(ids, plats);
    RETURN NULL;
END
$$;

-- The captured columns: V5's compared tuple, with extra and credentials whole (their compared keys
-- are checked by the row function).
CREATE TRIGGER roster_capture_update
    AFTER UPDATE OF id, name, platform, type, status, schedulable, priority, concurrency,
                    rate_limit_reset_at, overload_until, temp_unschedulable_until, expires_at,
                    auto_pause_on_expired, deleted_at, extra, credentials, rpm_limit, weight,
                    quota_threshold_5h, quota_threshold_7d
    ON accounts
    FOR EACH ROW EXECUTE FUNCTION roster_capture_accounts_update_row();

CREATE TRIGGER roster_capture_update_statement
    AFTER UPDATE OF id, name, platform, type, status, schedulable, priority, concurrency,
                    rate_limit_reset_at, overload_until, temp_unschedulable_until, expires_at,
                    auto_pause_on_expired, deleted_at, extra, credentials, rpm_limit, weight,
                    quota_threshold_5h, quota_threshold_7d
    ON accounts
    FOR EACH STATEMENT EXECUTE FUNCTION roster_capture_accounts_update_statement();
