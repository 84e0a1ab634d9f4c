-- Change capture (docs/architecture.md, "Tables and capture"). Every write to accounts, account_groups and groups
-- appends outbox rows in the writer's own transaction, whoever the writer is. Statement-level triggers with
-- transition tables turn one statement into one event, however many rows it touched.
-- PostgreSQL allows transition tables only on single-event triggers, hence one trigger per event.

-- Emits the event for a set of changed accounts: one account_changed for one account, one
-- account_bulk_changed for several. Groups are read from the links as they are now; an accounts
-- statement cannot change links, so "now" is both the old and the new group set.
CREATE FUNCTION roster_emit_accounts(changed bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    gids bigint[];
BEGIN
    IF changed IS NULL OR cardinality(changed) = 0 THEN
        RETURN;
    END IF;
    SELECT coalesce(array_agg(DISTINCT ag.group_id ORDER BY ag.group_id), '{}')
      INTO gids
      FROM account_groups ag
     WHERE ag.account_id = ANY (changed);
    IF cardinality(changed) = 1 THEN
        INSERT INTO scheduler_outbox (event_type, account_id, payload)
        VALUES ('account_changed', changed[1], jsonb_build_object('group_ids', to_jsonb(gids)));
    ELSE
        INSERT INTO scheduler_outbox (event_type, payload)
        VALUES ('account_bulk_changed',
                jsonb_build_object('account_ids', to_jsonb(changed), 'group_ids', to_jsonb(gids)));
    END IF;
END
$$;

CREATE FUNCTION roster_capture_accounts_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM roster_emit_accounts(
        (SELECT array_agg(DISTINCT n.id ORDER BY n.id) FROM roster_new n));
    RETURN NULL;
END
$$;

-- The compared tuple is every column the bucket query or a card reads. last_used_at, updated_at,
-- created_at, the rest of credentials (tokens) and the rest of extra are deliberately absent:
-- token refreshes and usage bookkeeping must not rebuild buckets.
CREATE FUNCTION roster_capture_accounts_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM roster_emit_accounts((
        SELECT array_agg(DISTINCT coalesce(n.id, o.id) ORDER BY coalesce(n.id, o.id))
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
                n.credentials -> 'model_mapping')));
    RETURN NULL;
END
$$;

-- A hard delete reports the groups the accounts had (the deferred keys keep the links until
-- here), then removes those links; the links trigger stays silent for links of vanished accounts
-- because this event already names them.
CREATE FUNCTION roster_capture_accounts_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    gone bigint[];
BEGIN
    SELECT array_agg(DISTINCT o.id ORDER BY o.id) INTO gone FROM roster_old o;
    PERFORM roster_emit_accounts(gone);
    IF gone IS NOT NULL THEN
        DELETE FROM account_groups ag
         WHERE ag.account_id = ANY (gone)
           AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = ag.account_id);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER roster_capture_insert AFTER INSERT ON accounts
    REFERENCING NEW TABLE AS roster_new
    FOR EACH STATEMENT EXECUTE FUNCTION roster_capture_accounts_insert();
CREATE TRIGGER roster_capture_update AFTER UPDATE ON accounts
    REFERENCING OLD TABLE AS roster_old NEW TABLE AS roster_new
    FOR EACH STATEMENT EXECUTE FUNCTION roster_capture_accounts_update();
CREATE TRIGGER roster_capture_delete AFTER DELETE ON accounts
    REFERENCING OLD TABLE AS roster_old
    FOR EACH STATEMENT EXECUTE FUNCTION roster_capture_accounts_delete();

-- One account_groups_changed per statement: account_id is set when the statement touched one
-- account (the upstream shape), and the payload always lists account_ids and group_ids.
-- group_ids is the changed links' groups plus every group the accounts are still linked to: a card
-- carries its account's links, so the account's card changed in all of those buckets (old ∪ new).
CREATE FUNCTION roster_emit_links(aids bigint[], gids bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    affected bigint[];
BEGIN
    IF aids IS NULL OR cardinality(aids) = 0 THEN
        RETURN;
    END IF;
    SELECT coalesce(array_agg(DISTINCT g ORDER BY g), '{}') INTO affected
      FROM (SELECT unnest(gids) AS g
            UNION
            SELECT ag.group_id FROM account_groups ag WHERE ag.account_id = ANY (aids)) u;
    INSERT INTO scheduler_outbox (event_type, account_id, payload)
    VALUES ('account_groups_changed',
            CASE WHEN cardinality(aids) = 1 THEN aids[1] END,
            jsonb_build_object('account_ids', to_jsonb(aids), 'group_ids', to_jsonb(affected)));
END
$$;

CREATE FUNCTION roster_capture_links_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM roster_emit_links(
        (SELECT array_agg(DISTINCT n.account_id ORDER BY n.account_id) FROM roster_new n),
        (SELECT array_agg(DISTINCT n.group_id ORDER BY n.group_id) FROM roster_new n));
    RETURN NULL;
END
$$;

CREATE FUNCTION roster_capture_links_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM roster_emit_links(
        (SELECT array_agg(DISTINCT c.account_id ORDER BY c.account_id) FROM (
            SELECT coalesce(n.account_id, o.account_id) AS account_id
              FROM roster_old o
              FULL JOIN roster_new n ON n.account_id = o.account_id AND n.group_id = o.group_id
             WHERE o.account_id IS NULL OR n.account_id IS NULL OR o.priority IS DISTINCT FROM n.priority) c),
        (SELECT array_agg(DISTINCT c.group_id ORDER BY c.group_id) FROM (
            SELECT coalesce(n.group_id, o.group_id) AS group_id
              FROM roster_old o
              FULL JOIN roster_new n ON n.account_id = o.account_id AND n.group_id = o.group_id
             WHERE o.account_id IS NULL OR n.account_id IS NULL OR o.priority IS DISTINCT FROM n.priority) c));
    RETURN NULL;
END
$$;

CREATE FUNCTION roster_capture_links_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM roster_emit_links(
        (SELECT array_agg(DISTINCT o.account_id ORDER BY o.account_id) FROM roster_old o
          WHERE EXISTS (SELECT 1 FROM accounts a WHERE a.id = o.account_id)),
        (SELECT array_agg(DISTINCT o.group_id ORDER BY o.group_id) FROM roster_old o
          WHERE EXISTS (SELECT 1 FROM accounts a WHERE a.id = o.account_id)));
    RETURN NULL;
END
$$;

CREATE TRIGGER roster_capture_insert AFTER INSERT ON account_groups
    REFERENCING NEW TABLE AS roster_new
    FOR EACH STATEMENT EXECUTE FUNCTION roster_capture_links_insert();
CREATE TRIGGER roster_capture_update AFTER UPDATE ON account_groups
    REFERENCING OLD TABLE AS roster_old NEW TABLE AS roster_new
    FOR EACH STATEMENT EXECUTE FUNCTION roster_capture_links_update();
CREATE TRIGGER roster_capture_delete AFTER DELETE ON account_groups
    REFERENCING OLD TABLE AS roster_old
    FOR EACH STATEMENT EXECUTE FUNCTION roster_capture_links_delete();

-- group_changed is per statement too: group_id is set when one group changed, and the payload
-- lists every changed group. The bucket query reads a group's status and deleted_at, and its
-- platform decides the group's canonical buckets; its name is read by neither and emits nothing.
CREATE FUNCTION roster_emit_groups(gids bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF gids IS NULL OR cardinality(gids) = 0 THEN
        RETURN;
    END IF;
    INSERT INTO scheduler_outbox (event_type, group_id, payload)
    VALUES ('group_changed',
            CASE WHEN cardinality(gids) = 1 THEN gids[1] END,
            jsonb_build_object('group_ids', to_jsonb(gids)));
END
$$;

CREATE FUNCTION roster_capture_groups_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM roster_emit_groups((SELECT array_agg(DISTINCT n.id ORDER BY n.id) FROM roster_new n));
    RETURN NULL;
END
$$;

CREATE FUNCTION roster_capture_groups_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM roster_emit_groups((
        SELECT array_agg(DISTINCT coalesce(n.id, o.id) ORDER BY coalesce(n.id, o.id))
          FROM roster_old o
          FULL JOIN roster_new n ON n.id = o.id
         WHERE o.id IS NULL OR n.id IS NULL
            OR (o.platform, o.status, o.deleted_at) IS DISTINCT FROM (n.platform, n.status, n.deleted_at)));
    RETURN NULL;
END
$$;

-- A hard-deleted group takes its links with it; removing them fires the links trigger, which
-- reports the accounts whose cards lost the group.
CREATE FUNCTION roster_capture_groups_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    gone bigint[];
BEGIN
    SELECT array_agg(DISTINCT o.id ORDER BY o.id) INTO gone FROM roster_old o;
    PERFORM roster_emit_groups(gone);
    IF gone IS NOT NULL THEN
        DELETE FROM account_groups ag
         WHERE ag.group_id = ANY (gone)
           AND NOT EXISTS (SELECT 1 FROM groups g WHERE g.id = ag.group_id);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER roster_capture_insert AFTER INSERT ON groups
    REFERENCING NEW TABLE AS roster_new
    FOR EACH STATEMENT EXECUTE FUNCTION roster_capture_groups_insert();
CREATE TRIGGER roster_capture_update AFTER UPDATE ON groups
    REFERENCING OLD TABLE AS roster_old NEW TABLE AS roster_new
    FOR EACH STATEMENT EXECUTE FUNCTION roster_capture_groups_update();
CREATE TRIGGER roster_capture_delete AFTER DELETE ON groups
    REFERENCING OLD TABLE AS roster_old
    FOR EACH STATEMENT EXECUTE FUNCTION roster_capture_groups_delete();

-- The wake-up: one notification per transaction that wrote outbox rows, whoever wrote them
-- (capture triggers, another service's full_rebuild, an operator). The transaction-local setting
-- is the guard; it vanishes with the transaction, and a rolled-back notification goes with it.
CREATE FUNCTION roster_outbox_wake() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('roster.outbox_notified', true) IS DISTINCT FROM 'on' THEN
        PERFORM set_config('roster.outbox_notified', 'on', true);
        PERFORM pg_notify('roster_outbox', '');
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER roster_outbox_wake AFTER INSERT ON scheduler_outbox
    FOR EACH STATEMENT EXECUTE FUNCTION roster_outbox_wake();
