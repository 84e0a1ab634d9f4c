-- Capture, second version (decisions K1, K2). V2 stays as it ran; this replaces its account functions.
--
-- 1. Account events name the platforms the statement moved accounts between ("platforms", sorted):
--    old and new platform of every row whose platform changed, the platform of every deleted row,
--    nothing for inserts. The replayer finds the buckets an account must be rebuilt in from its
--    reloaded card, which already carries the new platform; without the old one a platform change
--    (or a delete and re-insert of one id on another platform) left the account in its old
--    platform's buckets. Rows whose platform did not change add nothing, so a bulk statement still
--    rebuilds each account's groups on its own platform only. The mixed flag needs no field of its own: only antigravity accounts are
--    mixed, and the replayer rebuilds anthropic and gemini for every antigravity platform it is given.
-- 2. TRUNCATE of accounts, groups or account_groups removes rows without row triggers; each
--    truncated table emits one full_rebuild, which the replayer answers with a full rebuild.

CREATE FUNCTION roster_emit_accounts(changed bigint[], platforms text[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    gids bigint[];
    plats jsonb;
BEGIN
    IF changed IS NULL OR cardinality(changed) = 0 THEN
        RETURN;
    END IF;
    SELECT coalesce(array_agg(DISTINCT ag.group_id ORDER BY ag.group_id), '{}')
      INTO gids
      FROM account_groups ag
     WHERE ag.account_id = ANY (changed);
    SELECT coalesce(jsonb_agg(DISTINCT p ORDER BY p), '[]'::jsonb)
      INTO plats
      FROM unnest(platforms) p
     WHERE p IS NOT NULL;
    IF cardinality(changed) = 1 THEN
        INSERT INTO scheduler_outbox (event_type, account_id, payload)
        VALUES ('account_changed', changed[1],
                jsonb_build_object('group_ids', to_jsonb(gids), 'platforms', plats));
    ELSE
        INSERT INTO scheduler_outbox (event_type, payload)
        VALUES ('account_bulk_changed',
                jsonb_build_object('account_ids', to_jsonb(changed), 'group_ids', to_jsonb(gids),
                                   'platforms', plats));
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION roster_capture_accounts_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM roster_emit_accounts(
        (SELECT array_agg(DISTINCT n.id ORDER BY n.id) FROM roster_new n),
        '{}'::text[]);
    RETURN NULL;
END
$$;

-- The compared tuple is V2's: every column the bucket query or a card reads. The platforms are
-- the old and new ones of rows whose platform changed.
CREATE OR REPLACE FUNCTION roster_capture_accounts_update() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
    plats text[];
BEGIN
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
                     WHERE c.old_platform IS DISTINCT FROM c.new_platform) u)
      INTO ids, plats;
    PERFORM roster_emit_accounts(ids, plats);
    RETURN NULL;
END
$$;

-- As in V2: the groups the accounts had (the deferred keys keep the links until here), then the
-- links of vanished accounts go; the platforms are the ones the deleted rows had.
CREATE OR REPLACE FUNCTION roster_capture_accounts_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    gone bigint[];
BEGIN
    SELECT array_agg(DISTINCT o.id ORDER BY o.id) INTO gone FROM roster_old o;
    PERFORM roster_emit_accounts(gone, (SELECT array_agg(DISTINCT o.platform) FROM roster_old o));
    IF gone IS NOT NULL THEN
        DELETE FROM account_groups ag
         WHERE ag.account_id = ANY (gone)
           AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = ag.account_id);
    END IF;
    RETURN NULL;
END
$$;

DROP FUNCTION roster_emit_accounts(bigint[]);

-- One full_rebuild per truncated table (a TRUNCATE ... CASCADE fires it for each table it empties;
-- the replayer coalesces them into one rebuild). The payload names the table for operators.
CREATE FUNCTION roster_capture_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO scheduler_outbox (event_type, payload)
    VALUES ('full_rebuild', jsonb_build_object('truncated', TG_TABLE_NAME));
    RETURN NULL;
END
$$;

CREATE TRIGGER roster_capture_truncate AFTER TRUNCATE ON accounts
    FOR EACH STATEMENT EXECUTE FUNCTION roster_capture_truncate();
CREATE TRIGGER roster_capture_truncate AFTER TRUNCATE ON account_groups
    FOR EACH STATEMENT EXECUTE FUNCTION roster_capture_truncate();
CREATE TRIGGER roster_capture_truncate AFTER TRUNCATE ON groups
    FOR EACH STATEMENT EXECUTE FUNCTION roster_capture_truncate();
