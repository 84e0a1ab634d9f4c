-- Selection limits on accounts (decision S1 under "One-round-trip selection and new card fields"):
-- a requests-per-minute cap, a weight within the priority tier and the used-% thresholds of the
-- 5-hour and 7-day quota windows. They are card fields, so the capture compares them too: the update
-- trigger's WHEN tuple and its function's statement-wide comparison gain the four columns, and an SQL
-- edit of any of them emits account_changed like an edit of priority does. V4's structure is kept
-- unchanged otherwise; INSERT and DELETE always emit and need nothing here.

ALTER TABLE accounts
    ADD COLUMN rpm_limit integer,
    ADD COLUMN weight integer NOT NULL DEFAULT 1,
    ADD COLUMN quota_threshold_5h integer,
    ADD COLUMN quota_threshold_7d integer,
    ADD CONSTRAINT account_rpm_limit_must_be_between_0_and_1000000
        CHECK (rpm_limit IS NULL OR rpm_limit BETWEEN 0 AND 1000000),
    ADD CONSTRAINT account_weight_must_be_between_1_and_1000 CHECK (weight BETWEEN 1 AND 1000),
    ADD CONSTRAINT account_quota_threshold_5h_must_be_between_1_and_100
        CHECK (quota_threshold_5h IS NULL OR quota_threshold_5h BETWEEN 1 AND 100),
    ADD CONSTRAINT account_quota_threshold_7d_must_be_between_1_and_100
        CHECK (quota_threshold_7d IS NULL OR quota_threshold_7d BETWEEN 1 AND 100);

CREATE OR REPLACE FUNCTION roster_capture_accounts_update_row() RETURNS trigger
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
    -- V3's comparison, over the whole statement, with the selection limits of this version.
    WITH changed AS (
        SELECT o.id AS old_id, n.id AS new_id, o.platform AS old_platform, n.platform AS new_platform
          FROM roster_old o
          FULL JOIN roster_new n ON n.id = o.id
         WHERE o.id IS NULL OR n.id IS NULL
            OR (o.name, o.platform, o.type, o.status, o.schedulable, o.priority, o.concurrency,
                o.rate_limit_reset_at, o.overload_until, o.temp_unschedulable_until, o.expires_at,
                o.auto_pause_on_expired, o.deleted_at, o.extra -> 'mixed_scheduling',
                o.credentials -> 'model_mapping', o.rpm_limit, o.weight, o.quota_threshold_5h,
                o.quota_threshold_7d)
               IS DISTINCT FROM
               (n.name, n.platform, n.type, n.status, n.schedulable, n.priority, n.concurrency,
                n.rate_limit_reset_at, n.overload_until, n.temp_unschedulable_until, n.expires_at,
                n.auto_pause_on_expired, n.deleted_at, n.extra -> 'mixed_scheduling',
                n.credentials -> 'model_mapping', n.rpm_limit, n.weight, n.quota_threshold_5h,
                n.quota_threshold_7d))
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

-- V4's WHEN tuple plus the four limit columns.
CREATE TRIGGER roster_capture_update AFTER UPDATE ON accounts
    REFERENCING OLD TABLE AS roster_old NEW TABLE AS roster_new
    FOR EACH ROW
    WHEN ((OLD.id, OLD.name, OLD.platform, OLD.type, OLD.status, OLD.schedulable, OLD.priority,
           OLD.concurrency, OLD.rate_limit_reset_at, OLD.overload_until, OLD.temp_unschedulable_until,
           OLD.expires_at, OLD.auto_pause_on_expired, OLD.deleted_at, OLD.extra -> 'mixed_scheduling',
           OLD.credentials -> 'model_mapping', OLD.rpm_limit, OLD.weight, OLD.quota_threshold_5h,
           OLD.quota_threshold_7d)
          IS DISTINCT FROM
          (NEW.id, NEW.name, NEW.platform, NEW.type, NEW.status, NEW.schedulable, NEW.priority,
           NEW.concurrency, NEW.rate_limit_reset_at, NEW.overload_until, NEW.temp_unschedulable_until,
           NEW.expires_at, NEW.auto_pause_on_expired, NEW.deleted_at, NEW.extra -> 'mixed_scheduling',
           NEW.credentials -> 'model_mapping', NEW.rpm_limit, NEW.weight, NEW.quota_threshold_5h,
           NEW.quota_threshold_7d))
    EXECUTE FUNCTION roster_capture_accounts_update_row();
