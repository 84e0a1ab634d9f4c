// Roster status page (docs/architecture.md, "The status page"). Plain JavaScript, no dependencies, no build step.
// Everything shown is put into the page with textContent / setAttribute, never innerHTML,
// so account names, errors and payloads cannot inject markup.
'use strict';
(function () {
  const TOKEN_KEY = 'roster.admin_token';
  const PAGE_SIZE = 50;
  const $ = (id) => document.getElementById(id);
  const SVG = 'http://www.w3.org/2000/svg';

  const ui = {
    clockSkewMs: 0, // server now - client now, so countdowns follow the server's clock
    pool: { offset: 0, total: 0, items: [], filtersLoaded: '' },
    timers: [],
    busy: {},
    firstPool: true,
  };

  // ---- helpers ---------------------------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (v === undefined || v === null || v === false) continue;
        if (k === 'class') e.className = v;
        else if (k === 'text') e.textContent = v;
        else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
        else e.setAttribute(k, v === true ? '' : String(v));
      }
    }
    for (const c of children) {
      if (c === null || c === undefined) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }
  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function token() { return sessionStorage.getItem(TOKEN_KEY); }
  function serverNow() { return Date.now() + ui.clockSkewMs; }
  function fmtNum(n, digits) {
    if (n === null || n === undefined || Number.isNaN(n)) return '—';
    return Number(n).toLocaleString('en-US', { maximumFractionDigits: digits === undefined ? 2 : digits });
  }
  function fmtDuration(ms) {
    if (ms === null || ms === undefined) return '—';
    const s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return s + ' s';
    const m = Math.floor(s / 60), r = s % 60;
    if (m < 60) return m + ' min ' + String(r).padStart(2, '0') + ' s';
    const h = Math.floor(m / 60);
    if (h < 48) return h + ' h ' + String(m % 60).padStart(2, '0') + ' min';
    return Math.floor(h / 24) + ' d';
  }
  function ago(iso) {
    if (!iso) return 'never';
    return fmtDuration(serverNow() - Date.parse(iso)) + ' ago';
  }
  function setText(id, t) { const e = $(id); if (e.textContent !== t) e.textContent = t; }

  class Unauthorized extends Error {}

  async function api(method, path, body) {
    const headers = { Authorization: 'Bearer ' + token(), Accept: 'application/json' };
    const init = { method, headers, cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer' };
    if (body !== undefined) { headers['Content-Type'] = 'application/json'; init.body = JSON.stringify(body); }
    const r = await fetch(path, init);
    if (r.status === 401) throw new Unauthorized('wrong or missing admin token');
    const text = await r.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
    if (!r.ok) {
      const msg = json && json.message ? json.message : 'HTTP ' + r.status;
      throw new Error(msg);
    }
    return json;
  }

  // ---- login -------------------------------------------------------------------------------------
  function showLogin(message) {
    stopPolling();
    sessionStorage.removeItem(TOKEN_KEY);
    $('app').hidden = true;
    $('logout').hidden = true;
    $('login-panel').hidden = false;
    setText('login-error', message || '');
    setText('state', '');
    $('token').value = '';
    $('token').focus();
  }

  async function login(t) {
    sessionStorage.setItem(TOKEN_KEY, t);
    try {
      await api('GET', '/admin/status/overview');
    } catch (e) {
      if (e instanceof Unauthorized) { showLogin('Token rejected (401): check server.admin_token.'); return; }
      // Reachable but failing: still show the page, panels report their errors.
    }
    $('login-panel').hidden = true;
    $('app').hidden = false;
    $('logout').hidden = false;
    startPolling();
  }

  // ---- polling -----------------------------------------------------------------------------------
  function every(name, ms, fn) {
    const run = async () => {
      if (ui.busy[name]) return;
      ui.busy[name] = true;
      try {
        await fn();
      } catch (e) {
        if (e instanceof Unauthorized) { showLogin('The admin token is no longer accepted.'); return; }
        setText('state', name + ': ' + e.message);
      } finally {
        ui.busy[name] = false;
      }
    };
    run();
    ui.timers.push(setInterval(run, ms));
  }
  function startPolling() {
    stopPolling();
    every('overview', 2000, refreshOverview);
    every('pool', 2000, refreshPool);
    every('buckets', 5000, refreshBuckets);
    every('dead letters', 3000, refreshDead);
    ui.timers.push(setInterval(tick, 1000));
  }
  function stopPolling() {
    for (const t of ui.timers) clearInterval(t);
    ui.timers = [];
  }

  // ---- health and replay ------------------------------------------------------------------------
  function card(label, value, cls, title) {
    return el('div', { class: 'card ' + (cls || ''), title }, el('div', { class: 'k', text: label }), el('div', { class: 'v', text: value }));
  }

  async function refreshOverview() {
    const o = await api('GET', '/admin/status/overview');
    ui.clockSkewMs = Date.parse(o.now) - Date.now();
    const ob = o.outbox;
    const th = o.thresholds || {};
    setText('state', (o.ready ? 'ready' : 'not ready: ' + o.reason) + ' · updated ' + new Date().toLocaleTimeString());
    const h = o.hot_path;
    $('health-cards').replaceChildren(
      card('PostgreSQL', o.postgres.ok ? 'up · ' + fmtNum(o.postgres.ms, 1) + ' ms' : 'down', o.postgres.ok ? 'ok' : 'bad', o.postgres.error || ''),
      card('Redis', o.redis.ok ? 'up · ' + fmtNum(o.redis.ms, 1) + ' ms' : 'down', o.redis.ok ? 'ok' : 'bad', o.redis.error || ''),
      card('near-cache hit ratio', h.near_cache_hit_ratio === null ? '—' : fmtNum(100 * h.near_cache_hit_ratio, 1) + ' %', '',
        h.answers + ' hot-path answers since start'),
      card('fallback rate', h.fallback_per_second === null ? '—' : fmtNum(h.fallback_per_second, 2) + ' /s', h.fallback_per_second > 0 ? 'warn' : '',
        h.fallback_queries + ' fallback queries since start'),
      card('readiness', o.ready ? 'ready' : 'not ready', o.ready ? 'ok' : 'bad', o.reason || ''));
    const last = o.replay.length ? o.replay[o.replay.length - 1] : null;
    const lag = ob && ob.lag_seconds !== null ? ob.lag_seconds : 0;
    $('replay-figures').replaceChildren(
      card('watermark', ob ? ob.watermark : '—'),
      card('pending', ob ? fmtNum(Number(ob.pending), 0) : '—', ob && th.backlog_rebuild_rows > 0 && Number(ob.pending) >= th.backlog_rebuild_rows ? 'bad' : ''),
      card('lag', ob ? fmtNum(lag, 1) + ' s' : '—', th.lag_rebuild_seconds > 0 && lag >= th.lag_rebuild_seconds ? 'bad' : th.lag_warn_seconds > 0 && lag >= th.lag_warn_seconds ? 'warn' : ''),
      card('events/s', last ? fmtNum(last.events_per_second, 1) : '—'),
      card('coalescing', last && last.coalescing !== null ? fmtNum(last.coalescing, 1) + ' ev/rebuild' : '—'),
      card('dead letters', ob ? ob.dead_letters : '—', ob && Number(ob.dead_letters) > 0 ? 'bad' : ''),
      card('replayer', ob ? (ob.replayer ? 'this instance' : 'another instance') : '—'));
    setText('replay-window', 'last ' + Math.round(o.window_seconds / 60) + ' min, ' + o.replay.length + ' samples');
    drawChart(o.replay, th, o.window_seconds, Date.parse(o.now));
  }

  // Four stacked strips over the same 15-minute axis: lag (warn and rebuild thresholds),
  // pending (backlog threshold), events/s and coalescing ratio.
  function drawChart(samples, th, windowSeconds, nowMs) {
    const W = 640, stripH = 62, gap = 16, left = 44, right = 8;
    const strips = [
      { key: 'lag_seconds', label: 'lag (s)', thresholds: [[th.lag_warn_seconds, 'warn', 'warn'], [th.lag_rebuild_seconds, '', 'rebuild']] },
      { key: 'pending', label: 'pending', thresholds: [[th.backlog_rebuild_rows, '', 'backlog rebuild']] },
      { key: 'events_per_second', label: 'events/s', thresholds: [] },
      { key: 'coalescing', label: 'events/rebuild', thresholds: [] },
    ];
    const H = strips.length * (stripH + gap) + 14;
    const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, id: 'replay-svg' });
    const t0 = nowMs - windowSeconds * 1000;
    const x = (t) => left + ((t - t0) / (windowSeconds * 1000)) * (W - left - right);
    strips.forEach((s, i) => {
      const top = i * (stripH + gap) + 4;
      const vals = samples.map((p) => (p[s.key] === null ? null : Number(p[s.key])));
      const thr = s.thresholds.filter((t) => t[0] > 0);
      let max = Math.max(1, ...vals.filter((v) => v !== null));
      // Thresholds stay visible: the scale reaches a little above the highest one.
      for (const t of thr) max = Math.max(max, t[0] * 1.15);
      const y = (v) => top + stripH - (v / max) * stripH;
      root.append(svg('line', { class: 'axis', x1: left, x2: W - right, y1: top + stripH, y2: top + stripH }));
      root.append(svg('text', { x: 0, y: top + 10 }, s.label));
      root.append(svg('text', { x: 0, y: top + stripH }, fmtNum(0)));
      root.append(svg('text', { x: 0, y: top + 22 }, fmtNum(max, 1)));
      for (const [v, cls, name] of thr) {
        root.append(svg('line', { class: 'thr ' + cls, x1: left, x2: W - right, y1: y(v), y2: y(v), 'data-threshold': name }));
        root.append(svg('text', { x: W - right, y: y(v) - 2, 'text-anchor': 'end' }, name + ' ' + fmtNum(v, 0)));
      }
      let d = '';
      samples.forEach((p, j) => {
        if (vals[j] === null) return;
        d += (d === '' || vals[j - 1] === null ? 'M' : 'L') + x(Date.parse(p.at)).toFixed(1) + ' ' + y(vals[j]).toFixed(1) + ' ';
      });
      if (d) root.append(svg('path', { class: 'series', d }));
    });
    const base = strips.length * (stripH + gap) + 8;
    root.append(svg('text', { x: left, y: base }, '-' + Math.round(windowSeconds / 60) + ' min'));
    root.append(svg('text', { x: W - right - 24, y: base }, 'now'));
    $('replay-chart').replaceChildren(root);
  }

  // ---- pool --------------------------------------------------------------------------------------
  function poolQuery() {
    const p = new URLSearchParams();
    const q = $('pool-q').value.trim();
    if (q) p.set('q', q);
    if ($('pool-group').value) p.set('group', $('pool-group').value);
    if ($('pool-platform').value) p.set('platform', $('pool-platform').value);
    if ($('pool-state').value) p.set('state', $('pool-state').value);
    p.set('offset', String(ui.pool.offset));
    p.set('limit', String(PAGE_SIZE));
    return p.toString();
  }

  async function refreshPool() {
    const r = await api('GET', '/admin/status/accounts?' + poolQuery());
    ui.clockSkewMs = Date.parse(r.now) - Date.now();
    ui.pool.total = Number(r.total);
    ui.pool.items = r.items;
    fillFilters(r);
    renderPool();
    if (ui.firstPool) {
      ui.firstPool = false;
      performance.mark('roster:pool-rendered');
    }
  }

  function fillFilters(r) {
    const key = JSON.stringify([r.platforms, r.groups]);
    if (key === ui.pool.filtersLoaded) return;
    ui.pool.filtersLoaded = key;
    const g = $('pool-group'), gv = g.value;
    g.replaceChildren(el('option', { value: '', text: 'all groups' }), el('option', { value: '0', text: '(no group)' }),
      ...r.groups.map((x) => el('option', { value: x.id, text: x.name + ' #' + x.id + ' (' + x.platform + ')' })));
    g.value = gv;
    const p = $('pool-platform'), pv = p.value;
    p.replaceChildren(el('option', { value: '', text: 'all platforms' }), ...r.platforms.map((x) => el('option', { value: x, text: x })));
    p.value = pv;
  }

  const WHY = {
    disabled: 'disabled', rate_limited: 'rate-limited', overloaded: 'overloaded',
    temp_unschedulable: 'temp-unschedulable', expired: 'expired',
  };

  function whyCell(a) {
    if (a.effective) return el('td', { class: 'sched' }, el('span', { class: 'pill ok', text: 'yes' }));
    const td = el('td', { class: 'sched' }, el('span', { class: 'pill bad', text: 'no' }));
    for (const w of a.why) {
      const label = WHY[w.kind] || w.kind.replace(/^status_/, 'status ');
      const span = el('span', { class: 'pill warn', 'data-kind': w.kind, 'data-until': w.until || null, title: w.until || '' }, label);
      if (w.until && w.kind !== 'expired') {
        span.append(' until ' + new Date(w.until).toLocaleTimeString() + ' (');
        span.append(el('span', { class: 'countdown', 'data-until': w.until, text: fmtDuration(Date.parse(w.until) - serverNow()) }));
        span.append(')');
      } else if (w.kind === 'expired') {
        span.append(' ' + ago(w.until));
      }
      td.append(span);
    }
    return td;
  }

  // A used-% threshold; an account without its own shows the configured default, marked with '*'.
  function threshold(own) {
    return own === null || own === undefined ? '*' : own + '%';
  }

  function renderPool() {
    const { total, items, offset } = ui.pool;
    const key = JSON.stringify([total, offset, items]);
    if (key === ui.pool.rendered) return;
    ui.pool.rendered = key;
    const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
    setText('pool-count', total.toLocaleString('en-US') + ' accounts match');
    setText('pool-page', 'page ' + (Math.floor(offset / PAGE_SIZE) + 1) + ' of ' + pages);
    $('pool-prev').disabled = offset === 0;
    $('pool-next').disabled = offset + PAGE_SIZE >= total;
    const rows = items.map((a) => el('tr', { 'data-id': a.id, 'data-effective': String(a.effective) },
      el('td', { text: a.id }),
      el('td', { class: 'name wrap', text: a.name }),
      el('td', { text: a.platform }),
      el('td', { class: 'wrap', text: a.groups.length ? a.groups.map((g) => g.name + ' #' + g.id).join(', ') : '—' }),
      el('td', { text: a.status + (a.schedulable ? '' : ' · switch off') }),
      whyCell(a),
      el('td', { text: (a.in_flight === null || a.in_flight === undefined ? '—' : a.in_flight) + ' / ' + a.concurrency }),
      el('td', { text: a.priority }),
      el('td', { class: 'ago', 'data-at': a.last_used_at || null, text: ago(a.last_used_at) }),
      el('td', { class: 'weight', text: a.weight }),
      el('td', { class: 'rpm', text: a.rpm_limit ? a.rpm_limit : 'unlimited' }),
      el('td', { class: 'quota', text: threshold(a.quota_threshold_5h) + ' / ' + threshold(a.quota_threshold_7d) })));
    if (!rows.length) rows.push(el('tr', null, el('td', { colspan: 12, class: 'muted', text: 'no account matches' })));
    $('pool-rows').replaceChildren(...rows);
  }

  function tick() {
    for (const c of document.querySelectorAll('.countdown')) {
      c.textContent = fmtDuration(Date.parse(c.dataset.until) - serverNow());
    }
    for (const c of document.querySelectorAll('.ago')) {
      c.textContent = ago(c.dataset.at || null);
    }
    for (const c of document.querySelectorAll('.since')) {
      c.textContent = '≥ ' + fmtDuration(serverNow() - Date.parse(c.dataset.at));
    }
  }

  let searchTimer = null;
  function poolChanged(resetPage) {
    if (resetPage) ui.pool.offset = 0;
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => refreshPool().catch((e) => setText('state', 'pool: ' + e.message)), 200);
  }

  // ---- buckets -----------------------------------------------------------------------------------
  async function refreshBuckets() {
    const r = await api('GET', '/admin/status/buckets');
    const audit = $('buckets-audit');
    if (r.audited_at) {
      audit.className = 'muted small';
      audit.replaceChildren('latest audit ', el('span', { class: 'ago', 'data-at': r.audited_at, text: ago(r.audited_at) }),
        r.audit_clean ? ': clean' : ': drift found');
    } else {
      setText('buckets-audit', 'not audited since the server started');
    }
    const key = JSON.stringify(r.buckets.map((b) => [b.bucket, b.group_name, b.active, b.size, b.available_now, b.version, b.version_seen_at, b.drift]));
    if (key === ui.bucketsRendered) return;
    ui.bucketsRendered = key;
    const rows = r.buckets.map((b) => el('tr', { 'data-bucket': b.bucket },
      el('td', { text: b.bucket }),
      el('td', { text: b.group_name + (b.group_id !== '0' ? ' #' + b.group_id : '') }),
      el('td', { text: b.platform }),
      el('td', { text: b.mode }),
      el('td', { text: b.active ? b.size : '—' }),
      el('td', { text: b.active ? b.available_now : '—' }),
      el('td', { text: b.version === null ? 'none active' : b.version }),
      b.version_seen_at === null ? el('td', { text: '—' })
        : el('td', { class: 'since', 'data-at': b.version_seen_at, title: 'since this server first saw this version', text: '≥ ' + fmtDuration(serverNow() - Date.parse(b.version_seen_at)) }),
      el('td', { class: 'wrap drift' }, b.drift === null ? el('span', { class: 'muted', text: 'not audited' })
        : b.drift.length === 0 ? el('span', { class: 'pill ok', text: 'none' })
          : el('span', { class: 'pill bad', text: b.drift.join('; ') })),
      el('td', null, el('button', { type: 'button', class: 'rebuild', onclick: () => rebuild(b.bucket) }, 'Rebuild'))));
    if (!rows.length) rows.push(el('tr', null, el('td', { colspan: 10, class: 'muted', text: 'no bucket registered yet' })));
    $('bucket-rows').replaceChildren(...rows);
  }

  async function rebuild(bucket) {
    setText('buckets-msg', 'rebuilding ' + bucket + '…');
    try {
      const r = await api('POST', '/admin/rebuild', { bucket });
      setText('buckets-msg', bucket + ': ' + r.outcome);
      await refreshBuckets();
    } catch (e) {
      if (e instanceof Unauthorized) { showLogin('The admin token is no longer accepted.'); return; }
      setText('buckets-msg', bucket + ': ' + e.message);
    }
  }

  async function runAudit() {
    $('run-audit').disabled = true;
    setText('buckets-msg', 'auditing…');
    try {
      const r = await api('GET', '/admin/audit');
      setText('buckets-msg', 'audit: ' + r.checked + ' buckets checked, ' + (r.clean ? 'clean' : r.drift.length + ' drift(s)'));
      await refreshBuckets();
    } catch (e) {
      if (e instanceof Unauthorized) { showLogin('The admin token is no longer accepted.'); return; }
      setText('buckets-msg', 'audit failed: ' + e.message);
    } finally {
      $('run-audit').disabled = false;
    }
  }

  // ---- dead letters ------------------------------------------------------------------------------
  async function refreshDead() {
    const r = await api('GET', '/admin/outbox/dead-letters?limit=200');
    const list = r.dead_letters;
    setText('dead-count', list.length ? list.length + (list.length === 200 ? '+' : '') + ' events' : 'none');
    const key = JSON.stringify(list);
    if (key === ui.deadRendered) return;
    ui.deadRendered = key;
    const rows = list.map((d) => el('tr', { 'data-event': d.event_id },
      el('td', { text: d.event_id }),
      el('td', { text: d.event_type }),
      el('td', { text: (d.account_id ? 'account ' + d.account_id : '') + (d.group_id ? ' group ' + d.group_id : '') || '—' }),
      el('td', { class: 'wrap', text: d.error }),
      el('td', { text: d.attempts }),
      el('td', { class: 'ago', 'data-at': d.last_failed_at, text: ago(d.last_failed_at) }),
      el('td', null, el('button', { type: 'button', class: 'retry', onclick: () => retry(d.event_id) }, 'Retry'))));
    if (!rows.length) rows.push(el('tr', null, el('td', { colspan: 7, class: 'muted', text: 'no dead letters' })));
    $('dead-rows').replaceChildren(...rows);
  }

  async function retry(id) {
    try {
      await api('POST', '/admin/outbox/dead-letters/' + encodeURIComponent(id) + '/retry');
      setText('dead-msg', 'event ' + id + ' requeued (a full rebuild brings its change in)');
      await refreshDead();
    } catch (e) {
      if (e instanceof Unauthorized) { showLogin('The admin token is no longer accepted.'); return; }
      setText('dead-msg', 'retry of ' + id + ' failed: ' + e.message);
    }
  }

  // ---- wiring ------------------------------------------------------------------------------------
  document.addEventListener('DOMContentLoaded', () => {
    $('login').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const t = $('token').value.trim();
      $('token').value = '';
      if (t) login(t);
    });
    $('logout').addEventListener('click', () => showLogin(''));
    $('pool-filter').addEventListener('submit', (ev) => ev.preventDefault());
    $('pool-q').addEventListener('input', () => poolChanged(true));
    for (const id of ['pool-group', 'pool-platform', 'pool-state']) $(id).addEventListener('change', () => poolChanged(true));
    $('pool-prev').addEventListener('click', () => { ui.pool.offset = Math.max(0, ui.pool.offset - PAGE_SIZE); poolChanged(false); });
    $('pool-next').addEventListener('click', () => { ui.pool.offset += PAGE_SIZE; poolChanged(false); });
    $('run-audit').addEventListener('click', runAudit);
    if (token()) login(token()); else showLogin('');
  });
})();
