// tributary's dashboard: vanilla JS, canvas charts, one agent API (/api/v1) as the only source.
// The URL holds the state: the path says the host (/host/NAME/), the hash the time window and
// view (#after=-600;before=0;view=charts), so a link shows the same thing to someone else.
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const enc = encodeURIComponent;
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };

  // What the tests and a curious user can read: load time, requests per chart.
  const stats = { loadMs: null, requests: {}, totalRequests: 0, host: null, charts: 0 };
  window.tributary = stats;

  const state = {
    root: '', host: null, after: -600, before: 0, view: 'charts',
    charts: new Map(), hover: null, alarmTimer: null, generation: 0,
  };

  // ---- URL <-> state ------------------------------------------------------------------------
  function readLocation() {
    const m = location.pathname.match(/^(.*?)\/host\/([^/]+)\/?/);
    state.root = m ? m[1] : location.pathname.replace(/[^/]*$/, '').replace(/\/$/, '');
    state.host = m ? decodeURIComponent(m[2]) : null;
    const h = {};
    location.hash.replace(/^#/, '').split(/[;&]/).filter(Boolean).forEach((p) => {
      const [k, v] = p.split('=');
      h[k] = decodeURIComponent(v || '');
    });
    const a = parseInt(h.after, 10), b = parseInt(h.before, 10);
    state.after = Number.isFinite(a) && a !== 0 ? a : -600;
    state.before = Number.isFinite(b) ? b : 0;
    state.view = h.view === 'streaming' ? 'streaming' : 'charts';
  }
  function hashText() {
    return `#after=${state.after};before=${state.before};view=${state.view}`;
  }
  function writeHash() {
    history.replaceState(null, '', location.pathname + hashText());
    showWindow();
  }
  const hostBase = () => (state.host ? `${state.root}/host/${enc(state.host)}` : state.root);
  const api = (base, path) => {
    stats.totalRequests++;
    return fetch(`${base}/api/v1/${path}`, { cache: 'no-store' }).then((r) => {
      if (!r.ok) { const e = new Error(`${path}: HTTP ${r.status}`); e.status = r.status; throw e; }
      return r.json();
    });
  };

  // ---- the time window ----------------------------------------------------------------------
  const nowS = () => Math.floor(Date.now() / 1000);
  const isLive = () => state.before <= 0 && state.after < 0;
  function windowAbs() {
    if (isLive()) { const n = nowS() + state.before; return [n + state.after, n]; }
    return [state.after, state.before];
  }
  function setWindow(t1, t2) {
    t1 = Math.round(t1); t2 = Math.round(t2);
    if (t2 - t1 < 10) { const c = (t1 + t2) / 2; t1 = Math.round(c - 5); t2 = t1 + 10; }
    if (t2 >= nowS()) { state.after = -(t2 - t1); state.before = 0; } else { state.after = t1; state.before = t2; }
    writeHash();
    refetchAll();
  }
  function pan(fraction) { const [a, b] = windowAbs(); const d = (b - a) * fraction; setWindow(a + d, b + d); }
  function zoom(factor, centre) {
    const [a, b] = windowAbs();
    const c = centre === undefined ? (a + b) / 2 : centre;
    setWindow(c - (c - a) * factor, c + (b - c) * factor);
  }
  function showWindow() {
    const [a, b] = windowAbs();
    const d = b - a;
    const span = d >= 3600 ? `${(d / 3600).toFixed(1)} h` : d >= 60 ? `${Math.round(d / 60)} min` : `${d} s`;
    $('window-label').textContent = isLive() ? `last ${span}, live` : `${fmtTime(a)} – ${fmtTime(b)} (${span})`;
    $('live').setAttribute('aria-pressed', String(isLive()));
  }
  const fmtTime = (t) => new Date(t * 1000).toLocaleTimeString([], { hour12: false });
  const fmtDate = (t) => new Date(t * 1000).toLocaleString([], { hour12: false });
  function fmtAge(s) {
    if (s === null || s === undefined || !Number.isFinite(s)) return '—';
    if (s < 120) return `${Math.round(s)} s`;
    if (s < 7200) return `${Math.round(s / 60)} min`;
    return `${(s / 3600).toFixed(1)} h`;
  }
  function fmtValue(v) {
    if (v === null || v === undefined) return '—';
    const a = Math.abs(v);
    if (a >= 1e9) return (v / 1e9).toFixed(2) + 'G';
    if (a >= 1e6) return (v / 1e6).toFixed(2) + 'M';
    if (a >= 1000) return v.toFixed(0);
    if (a >= 10) return v.toFixed(1);
    return v.toFixed(2);
  }

  // ---- theme --------------------------------------------------------------------------------
  let palette = [];
  function readPalette() {
    const cs = getComputedStyle(document.documentElement);
    palette = [1, 2, 3, 4, 5, 6, 7, 8].map((i) => cs.getPropertyValue(`--s${i}`).trim());
    palette.grid = cs.getPropertyValue('--grid').trim();
    palette.fg = cs.getPropertyValue('--muted').trim();
  }
  function applyTheme(t) {
    if (t) document.documentElement.dataset.theme = t; else delete document.documentElement.dataset.theme;
    readPalette();
    for (const c of state.charts.values()) draw(c);
  }
  function toggleTheme() {
    const set = document.documentElement.dataset.theme;
    const dark = set ? set === 'dark' : matchMedia('(prefers-color-scheme: dark)').matches;
    const t = dark ? 'light' : 'dark';
    try { localStorage.setItem('tributary-theme', t); } catch (e) { /* private mode */ }
    applyTheme(t);
  }

  // ---- host menu ----------------------------------------------------------------------------
  async function loadHosts() {
    const [info, streaming] = await Promise.all([
      api(state.root, 'info'), api(state.root, 'streaming').catch(() => ({ hosts: [] })),
    ]);
    const byName = new Map(streaming.hosts.map((h) => [h.hostname, h]));
    const menu = $('host-menu');
    menu.textContent = '';
    const names = info.mirrored_hosts || [];
    state.localName = names[0];
    names.forEach((name, i) => {
      const s = byName.get(name) || {};
      const o = el('option', null, `${name} — ${hostStateText(s, i === 0)}`);
      o.value = i === 0 ? '' : name;
      o.dataset.hostname = name;
      if ((state.host || '') === o.value || (state.host && state.host === name)) o.selected = true;
      menu.appendChild(o);
    });
    const cur = byName.get(state.host || state.localName) || {};
    $('host-state').textContent = hostStateText(cur, !state.host || state.host === state.localName);
    return streaming;
  }
  function hostStateText(s, local) {
    if (local) return 'this agent';
    const hops = `hops ${s.hops === undefined ? '?' : s.hops}`;
    if (s.streaming) return `streaming, ${hops}`;
    const since = s.last_data ? ` since ${fmtDate(s.last_data)}` : '';
    return `stale${since}, ${hops}`;
  }
  function switchHost(name) {
    const path = name ? `${state.root}/host/${enc(name)}/` : `${state.root}/`;
    history.pushState(null, '', path + hashText());
    start();
  }

  // ---- charts -------------------------------------------------------------------------------
  const FIRST_SECTIONS = ['system', 'cpu', 'mem', 'disk', 'net', 'ipv4', 'ipv6', 'apps', 'users', 'groups'];
  const sectionOf = (type) => type.split('_')[0];
  let observer = null;

  async function loadCharts(gen) {
    const box = $('charts'), toc = $('toc');
    box.textContent = ''; toc.textContent = '';
    for (const c of state.charts.values()) if (observer) observer.unobserve(c.el);
    state.charts.clear();
    const resp = await api(hostBase(), 'charts');
    if (gen !== state.generation) return;
    const list = Object.values(resp.charts || {});
    stats.charts = list.length;
    const sections = new Map();
    for (const def of list) {
      const sec = sectionOf(def.type || def.id.split('.')[0]);
      if (!sections.has(sec)) sections.set(sec, { name: sec, prio: Infinity, families: new Map() });
      const s = sections.get(sec);
      s.prio = Math.min(s.prio, def.priority);
      const fam = def.family || def.type;
      if (!s.families.has(fam)) s.families.set(fam, { name: fam, prio: Infinity, charts: [] });
      const f = s.families.get(fam);
      f.prio = Math.min(f.prio, def.priority);
      f.charts.push(def);
    }
    const rank = (n) => { const i = FIRST_SECTIONS.indexOf(n); return i < 0 ? FIRST_SECTIONS.length : i; };
    const sorted = [...sections.values()].sort((a, b) => rank(a.name) - rank(b.name) || a.prio - b.prio || a.name.localeCompare(b.name));
    const frag = document.createDocumentFragment(), tfrag = document.createDocumentFragment();
    sorted.forEach((s, si) => {
      const h = el('h2', 'section', s.name);
      h.id = `s-${si}`;
      frag.appendChild(h);
      const ta = el('a', 'section', s.name); ta.href = `#${h.id}`; ta.dataset.target = h.id;
      tfrag.appendChild(ta);
      [...s.families.values()].sort((a, b) => a.prio - b.prio || a.name.localeCompare(b.name)).forEach((f, fi) => {
        const fh = el('h3', 'family', f.name);
        fh.id = `s-${si}-f-${fi}`;
        frag.appendChild(fh);
        if (s.families.size > 1) {
          const fa = el('a', 'family', f.name); fa.href = `#${fh.id}`; fa.dataset.target = fh.id;
          tfrag.appendChild(fa);
        }
        f.charts.sort((a, b) => a.priority - b.priority || a.id.localeCompare(b.id)).forEach((def) => frag.appendChild(makeChart(def)));
      });
    });
    box.appendChild(frag); toc.appendChild(tfrag);
    if (!observer) {
      observer = new IntersectionObserver((entries) => {
        for (const e of entries) {
          const c = e.target.chart;
          if (!c) continue;
          c.visible = e.isIntersecting;
          if (c.visible) { ensureCanvas(c); if (c.windowKey !== windowKey()) fetchChart(c); }
        }
      }, { rootMargin: '100px 0px' });
    }
    for (const c of state.charts.values()) observer.observe(c.el);
  }

  function makeChart(def) {
    const d = el('div', 'chart');
    d.dataset.chart = def.id;
    const head = el('div', 'chart-head');
    head.appendChild(el('span', 'chart-title', def.title));
    head.appendChild(el('span', 'chart-id', def.id));
    head.appendChild(el('span', 'units', def.units));
    const badge = el('span', 'alarm-state'); badge.hidden = true;
    head.appendChild(badge);
    const plot = el('div', 'plot');
    plot.tabIndex = 0;
    plot.setAttribute('role', 'img');
    plot.setAttribute('aria-label', `${def.title} in ${def.units}; arrows pan, + and − zoom`);
    const legend = el('div', 'legend');
    d.append(head, plot, legend);
    const c = { def, el: d, plot, legend, badge, canvas: null, visible: false, inflight: false, data: null, lastFetch: 0, windowKey: null };
    d.chart = c;
    state.charts.set(def.id, c);
    return d;
  }

  function ensureCanvas(c) {
    if (c.canvas) return;
    c.canvas = document.createElement('canvas');
    c.plot.appendChild(c.canvas);
    attachPointer(c);
  }

  const windowKey = () => (isLive() ? `live${state.after}` : `${state.after}-${state.before}`);

  async function fetchChart(c) {
    if (c.inflight) return;
    c.inflight = true;
    c.lastFetch = Date.now();
    const gen = state.generation;
    const key = windowKey();
    const points = Math.max(2, Math.round(c.plot.clientWidth || 300));
    const after = state.after, before = state.before;
    stats.requests[c.def.id] = (stats.requests[c.def.id] || 0) + 1;
    try {
      const r = await api(hostBase(), `data?chart=${enc(c.def.id)}&after=${after}&before=${before}&points=${points}&group=average&format=json&options=seconds%7Cflip%7Cjsonwrap`);
      if (gen !== state.generation) return;
      c.data = { labels: r.result.labels, rows: r.result.data, after: r.after, before: r.before };
      c.windowKey = key;
      draw(c);
      updateLegend(c, state.hover);
    } catch (e) {
      if (gen !== state.generation) return;
      if (e.status === 404) {
        // netdata's answer for a window the chart holds nothing of: draw it empty
        const [a, b] = windowAbs();
        c.data = { labels: ['time'], rows: [], after: a, before: b };
        c.windowKey = key;
        draw(c);
        c.legend.textContent = 'no data in this window';
      } else c.legend.textContent = String(e.message || e);
    } finally {
      if (stats.loadMs === null && gen === state.generation) {
        const visible = [...state.charts.values()].filter((x) => x.visible);
        if (visible.length && visible.every((x) => x.data)) stats.loadMs = Math.round(performance.now());
      }
      c.inflight = false;
    }
  }

  function refetchAll() {
    for (const c of state.charts.values()) if (c.visible) fetchChart(c);
  }

  // One timer; every visible chart asks again once per its own update_every while live.
  function tick() {
    if (state.view !== 'charts') return;
    showWindow();
    if (!isLive()) return;
    const now = Date.now();
    for (const c of state.charts.values()) {
      if (!c.visible || c.inflight) continue;
      if (now - c.lastFetch >= (c.def.update_every || 1) * 1000 - 50) fetchChart(c);
    }
  }

  // ---- drawing ------------------------------------------------------------------------------
  function draw(c) {
    if (!c.canvas || !c.data) return;
    const dpr = window.devicePixelRatio || 1;
    const w = c.plot.clientWidth, h = c.plot.clientHeight;
    if (!w || !h) return;
    if (c.canvas.width !== Math.round(w * dpr)) c.canvas.width = Math.round(w * dpr);
    if (c.canvas.height !== Math.round(h * dpr)) c.canvas.height = Math.round(h * dpr);
    const g = c.canvas.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    const { labels, rows } = c.data;
    const [t1, t2] = [c.data.after, c.data.before];
    const nd = labels.length - 1;
    const stacked = c.def.chart_type === 'stacked';
    // the plotted y of each dimension (cumulative when stacked)
    let lo = 0, hi = 0;
    const ys = rows.map((r) => {
      let pos = 0, neg = 0;
      const out = new Array(nd);
      for (let i = 0; i < nd; i++) {
        const v = r[i + 1];
        if (v === null) { out[i] = null; continue; }
        if (stacked) { if (v >= 0) { pos += v; out[i] = [pos - v, pos]; } else { neg += v; out[i] = [neg - v, neg]; } }
        else out[i] = [0, v];
        lo = Math.min(lo, out[i][1], out[i][0]); hi = Math.max(hi, out[i][1], out[i][0]);
      }
      return out;
    });
    if (hi === lo) hi = lo + 1;
    const padL = 48, padB = 16, pw = w - padL - 4, ph = h - padB - 4;
    const X = (t) => padL + ((t - t1) / Math.max(1, t2 - t1)) * pw;
    const Y = (v) => 4 + ph - ((v - lo) / (hi - lo)) * ph;
    c.geom = { padL, pw, t1, t2 };
    g.strokeStyle = palette.grid; g.fillStyle = palette.fg; g.lineWidth = 1;
    g.font = '10px system-ui, sans-serif';
    g.textAlign = 'right'; g.textBaseline = 'middle';
    for (let k = 0; k <= 4; k++) {
      const v = lo + ((hi - lo) * k) / 4, y = Y(v);
      g.beginPath(); g.moveTo(padL, y); g.lineTo(w - 4, y); g.stroke();
      g.fillText(fmtValue(v), padL - 4, y);
    }
    g.textAlign = 'left'; g.textBaseline = 'bottom';
    g.fillText(fmtTime(t1), padL, h);
    g.textAlign = 'right'; g.fillText(fmtTime(t2), w - 4, h);
    const fill = c.def.chart_type === 'area' || stacked;
    for (let i = 0; i < nd; i++) {
      const color = palette[i % palette.length];
      g.strokeStyle = color; g.lineWidth = 1.5;
      let seg = [];
      const flush = () => {
        if (seg.length < 1) return;
        g.beginPath();
        seg.forEach(([t, p], k) => { if (k) g.lineTo(X(t), Y(p[1])); else g.moveTo(X(t), Y(p[1])); });
        g.stroke();
        if (fill) {
          for (let k = seg.length - 1; k >= 0; k--) g.lineTo(X(seg[k][0]), Y(seg[k][1][0]));
          g.closePath(); g.globalAlpha = stacked ? 0.45 : 0.25; g.fillStyle = color; g.fill(); g.globalAlpha = 1;
        }
        seg = [];
      };
      rows.forEach((r, k) => { const p = ys[k][i]; if (p === null) flush(); else seg.push([r[0], p]); });
      flush();
    }
    if (state.hover !== null && state.hover >= t1 && state.hover <= t2) {
      g.strokeStyle = palette.fg; g.lineWidth = 1;
      g.beginPath(); g.moveTo(X(state.hover), 4); g.lineTo(X(state.hover), 4 + ph); g.stroke();
    }
  }

  function updateLegend(c, t) {
    if (!c.data) return;
    const { labels, rows } = c.data;
    // live: the newest row; under the cursor: the row at that instant, if the chart has one
    let row = rows[rows.length - 1];
    if (t !== null) {
      const step = Math.max(1, (c.data.before - c.data.after) / Math.max(1, rows.length));
      let best = Infinity;
      row = null;
      for (const r of rows) { const d = Math.abs(r[0] - t); if (d < best && d <= step) { best = d; row = r; } }
    }
    const frag = document.createDocumentFragment();
    const shown = t !== null ? Math.round(t) : row && row[0];
    frag.appendChild(el('span', 'legend-time', shown ? fmtTime(shown) : ''));
    for (let i = 1; i < labels.length; i++) {
      const s = el('span', 'dim');
      const sw = el('span', 'sw'); sw.style.background = palette[(i - 1) % palette.length];
      s.append(sw, document.createTextNode(`${labels[i]} `), el('span', 'v', row ? fmtValue(row[i]) : '—'));
      frag.appendChild(s);
    }
    c.legend.textContent = '';
    c.legend.appendChild(frag);
  }

  function setHover(t) {
    state.hover = t;
    for (const c of state.charts.values()) if (c.visible && c.data) { draw(c); updateLegend(c, t); }
  }

  function attachPointer(c) {
    const tAt = (x) => { const gm = c.geom; if (!gm) return null; return gm.t1 + ((x - gm.padL) / gm.pw) * (gm.t2 - gm.t1); };
    let down = null;
    c.canvas.addEventListener('pointermove', (e) => {
      if (down === null) setHover(tAt(e.offsetX));
    });
    c.canvas.addEventListener('pointerleave', () => { if (down === null) setHover(null); });
    c.canvas.addEventListener('pointerdown', (e) => { down = e.offsetX; c.canvas.setPointerCapture(e.pointerId); });
    c.canvas.addEventListener('pointerup', (e) => {
      const from = down; down = null;
      if (from === null || !c.geom) return;
      const dx = e.offsetX - from;
      if (Math.abs(dx) > 4) pan(-dx / c.geom.pw);
    });
    c.canvas.addEventListener('wheel', (e) => {
      if (!e.shiftKey && !e.ctrlKey) return; // plain wheel scrolls the page
      e.preventDefault();
      zoom(e.deltaY > 0 ? 1.25 : 0.8, tAt(e.offsetX));
    }, { passive: false });
    c.canvas.addEventListener('dblclick', () => { state.after = -600; state.before = 0; writeHash(); refetchAll(); });
  }

  // ---- alarms -------------------------------------------------------------------------------
  const ACTIVE = ['WARNING', 'CRITICAL'];
  const RANK = { CLEAR: 1, UNDEFINED: 0, UNINITIALIZED: 0, WARNING: 2, CRITICAL: 3 };
  async function loadAlarms(gen) {
    let r;
    try { r = await api(hostBase(), 'alarms?all'); } catch (e) { return; }
    if (gen !== state.generation) return;
    const alarms = Object.values(r.alarms || {});
    const active = alarms.filter((a) => ACTIVE.includes(a.status));
    const count = $('alarm-count');
    count.textContent = String(active.length);
    count.className = 'badge ' + (active.some((a) => a.status === 'CRITICAL') ? 'critical' : active.length ? 'warning' : 'clear');
    const worst = new Map();
    for (const a of alarms) {
      const w = worst.get(a.chart);
      if (!w || (RANK[a.status] || 0) > (RANK[w.status] || 0)) worst.set(a.chart, a);
    }
    for (const c of state.charts.values()) {
      const a = worst.get(c.def.id);
      c.el.classList.remove('alarm-clear', 'alarm-warning', 'alarm-critical');
      if (a) {
        c.badge.hidden = false;
        c.badge.className = `alarm-state ${a.status}`;
        c.badge.textContent = `${a.name}: ${a.status}`;
        if (RANK[a.status] >= 1) c.el.classList.add(`alarm-${a.status.toLowerCase()}`);
      } else c.badge.hidden = true;
    }
    if (!$('alarms-panel').hidden) {
      const body = $('alarms-active').tBodies[0];
      body.textContent = '';
      for (const a of active.sort((x, y) => (RANK[y.status] - RANK[x.status]))) {
        const tr = el('tr');
        tr.append(el('td', `st ${a.status}`, a.status), el('td', null, a.name), el('td', null, a.chart),
          el('td', null, `${fmtValue(a.value)} ${a.units || ''}`), el('td', null, a.last_status_change ? fmtDate(a.last_status_change) : ''));
        body.appendChild(tr);
      }
      if (!active.length) { const tr = el('tr'); const td = el('td', 'st clear', 'no active alarms'); td.colSpan = 5; tr.appendChild(td); body.appendChild(tr); }
      let log = [];
      try { log = await api(hostBase(), 'alarm_log'); } catch (e) { /* shown empty */ }
      if (gen !== state.generation) return;
      const lb = $('alarms-log').tBodies[0];
      lb.textContent = '';
      for (const e of log.slice(0, 200)) {
        const tr = el('tr');
        tr.append(el('td', null, fmtDate(e.when)), el('td', null, e.name), el('td', null, e.chart),
          el('td', `st ${e.old_status}`, e.old_status), el('td', `st ${e.status}`, e.status), el('td', null, `${fmtValue(e.value)} ${e.units || ''}`));
        lb.appendChild(tr);
      }
    }
  }
  function toggleAlarms(open) {
    const p = $('alarms-panel');
    p.hidden = open === undefined ? !p.hidden : !open;
    $('alarms-button').setAttribute('aria-expanded', String(!p.hidden));
    $('alarms-host').textContent = state.host || state.localName || '';
    if (!p.hidden) { loadAlarms(state.generation); $('alarms-close').focus(); } else $('alarms-button').focus();
  }

  // ---- streaming tree -----------------------------------------------------------------------
  async function loadStreaming(gen) {
    const box = $('streaming');
    let r;
    try { r = await api(state.root, 'streaming'); } catch (e) { box.textContent = String(e.message || e); return; }
    if (gen !== state.generation) return;
    box.textContent = '';
    box.appendChild(el('h2', 'section', 'Streaming'));
    const hosts = r.hosts || [];
    const local = hosts.find((h) => h.localhost) || hosts[0];
    const tree = el('div', 'tree');
    const top = el('ul');
    const li = nodeItem(local, r.now);
    const direct = el('ul');
    // Hosts one hop away stream straight in. A farther one came through a proxy: the host one
    // hop nearer that streams from the same address, when exactly one does (on separate
    // machines); otherwise a placeholder for "some proxy" at that distance.
    const ip = (h) => (h.peer || '').replace(/:\d+$/, '');
    const items = new Map();
    const placeholders = new Map();
    const others = hosts.filter((h) => !h.localhost).sort((x, y) => (x.hops || 1) - (y.hops || 1));
    for (const h of others) {
      const k = h.hops || 1;
      const item = nodeItem(h, r.now);
      items.set(h.hostname, item);
      if (k === 1) { direct.appendChild(item); continue; }
      const nearer = others.filter((o) => (o.hops || 1) === k - 1 && o.peer && ip(o) === ip(h));
      let parentItem = nearer.length === 1 ? items.get(nearer[0].hostname) : null;
      if (parentItem) item.querySelector('.meta').prepend(`via ${nearer[0].hostname} · `);
      else {
        if (!placeholders.has(k)) {
          const via = el('li');
          via.appendChild(el('span', 'node proxy', `through a proxy (${k} hops)`));
          (placeholders.has(k - 1) ? childList(placeholders.get(k - 1)) : direct).appendChild(via);
          placeholders.set(k, via);
        }
        parentItem = placeholders.get(k);
      }
      childList(parentItem).appendChild(item);
    }
    li.appendChild(direct);
    top.appendChild(li);
    tree.appendChild(top);
    box.appendChild(tree);
  }
  // the list of a tree item's children, made on first use
  function childList(item) {
    let ul = item.querySelector(':scope > ul');
    if (!ul) { ul = el('ul'); item.appendChild(ul); }
    return ul;
  }
  // bytes received per host at the previous refresh, for bytes/s
  const trafficSeen = new Map();
  function fmtBytes(b) {
    if (b >= 1048576) return `${(b / 1048576).toFixed(1)} MiB`;
    if (b >= 1024) return `${(b / 1024).toFixed(1)} KiB`;
    return `${Math.round(b)} B`;
  }
  function nodeItem(h, now) {
    const li = el('li');
    const stale = !h.streaming;
    const n = el('div', `node ${stale ? 'stale' : 'streaming'}`);
    n.dataset.host = h.hostname;
    const a = el('a', null, h.hostname);
    a.href = (h.localhost ? `${state.root}/` : `${state.root}/host/${enc(h.hostname)}/`) + '#view=charts';
    a.addEventListener('click', (e) => { e.preventDefault(); state.view = 'charts'; switchHost(h.localhost ? null : h.hostname); });
    n.appendChild(a);
    n.appendChild(document.createTextNode(' '));
    n.appendChild(el('span', `st ${stale ? 'stale' : 'streaming'}`, h.localhost ? 'this agent' : stale ? 'stale' : 'streaming'));
    const rep = h.replication || {};
    const total = (rep.charts_finished || 0) + (rep.charts_in_progress || 0);
    const parts = [];
    if (!h.localhost) {
      parts.push(`hops ${h.hops}`);
      if (h.peer) parts.push(`from ${h.peer}`);
      if (h.connected_since) parts.push(`connected ${fmtAge(now - h.connected_since)} ago`);
      if (h.last_data) parts.push(`lag ${fmtAge(now - h.last_data)}`);
      if (h.compression !== null && h.compression !== undefined) parts.push(h.compression ? 'lz4' : 'uncompressed');
      if (h.bytes_received !== null && h.bytes_received !== undefined) {
        const prev = trafficSeen.get(h.hostname);
        if (prev && now > prev.now && h.bytes_received >= prev.bytes) parts.push(`${fmtBytes((h.bytes_received - prev.bytes) / (now - prev.now))}/s`);
        else parts.push(`${fmtBytes(h.bytes_received)} received`);
        if (!prev || now - prev.now >= 5) trafficSeen.set(h.hostname, { bytes: h.bytes_received, now });
      }
      parts.push(total ? `replication ${Math.round((100 * (rep.charts_finished || 0)) / total)}% of ${total} charts` : 'replication: none asked');
      if (rep.seconds_replayed) parts.push(`${rep.seconds_replayed} s replayed`);
      if (rep.last_gap_missing_seconds) parts.push(`${rep.last_gap_missing_seconds} s lost`);
    }
    parts.push(`${h.charts === undefined ? '' : h.charts + ' charts, '}memory mode ${h.memory_mode}`);
    n.appendChild(el('div', 'meta', parts.join(' · ')));
    li.appendChild(n);
    return li;
  }

  // ---- views and start-up -------------------------------------------------------------------
  function showView() {
    const charts = state.view === 'charts';
    $('charts').hidden = !charts; $('toc').hidden = !charts;
    $('streaming').hidden = charts;
    $('view-charts').toggleAttribute('aria-current', false); $('view-streaming').toggleAttribute('aria-current', false);
    $(charts ? 'view-charts' : 'view-streaming').setAttribute('aria-current', 'page');
  }
  async function start() {
    readLocation();
    const gen = ++state.generation;
    stats.host = state.host;
    stats.loadMs = null;
    showWindow(); showView();
    await loadHosts().catch((e) => { $('host-state').textContent = String(e.message || e); });
    if (gen !== state.generation) return;
    if (state.view === 'streaming') await loadStreaming(gen);
    await loadCharts(gen);
    loadAlarms(gen);
  }

  function setView(v) {
    state.view = v;
    writeHash();
    showView();
    if (v === 'streaming') loadStreaming(state.generation); else refetchAll();
  }

  document.addEventListener('keydown', (e) => {
    if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement || e.altKey || e.metaKey || e.ctrlKey) return;
    const onChart = e.target.classList && e.target.classList.contains('plot');
    if (e.key === 'Escape' && !$('alarms-panel').hidden) toggleAlarms(false);
    else if (e.key === 'a' || e.key === 'A') toggleAlarms();
    else if (e.key === 't' || e.key === 'T') toggleTheme();
    else if (e.key === 'l' || e.key === 'L') { state.after = -600; state.before = 0; writeHash(); refetchAll(); }
    else if (onChart && e.key === 'ArrowLeft') { e.preventDefault(); pan(-0.25); }
    else if (onChart && e.key === 'ArrowRight') { e.preventDefault(); pan(0.25); }
    else if (e.key === '+' || e.key === '=') zoom(0.5);
    else if (e.key === '-' || e.key === '_') zoom(2);
  });
  $('pan-left').onclick = () => pan(-0.5);
  $('pan-right').onclick = () => pan(0.5);
  $('zoom-in').onclick = () => zoom(0.5);
  $('zoom-out').onclick = () => zoom(2);
  $('live').onclick = () => { state.after = -600; state.before = 0; writeHash(); refetchAll(); };
  $('alarms-button').onclick = () => toggleAlarms();
  $('alarms-close').onclick = () => toggleAlarms(false);
  $('theme-toggle').onclick = toggleTheme;
  $('host-menu').onchange = (e) => switchHost(e.target.value || null);
  $('view-charts').onclick = (e) => { e.preventDefault(); setView('charts'); };
  $('view-streaming').onclick = (e) => { e.preventDefault(); setView('streaming'); };
  $('toc-toggle').onclick = () => { const t = $('toc'); t.classList.toggle('open'); $('toc-toggle').setAttribute('aria-expanded', String(t.classList.contains('open'))); };
  $('toc').addEventListener('click', (e) => {
    const t = e.target.dataset && e.target.dataset.target;
    if (!t) return;
    e.preventDefault();
    document.getElementById(t).scrollIntoView();
    $('toc').classList.remove('open');
  });
  window.addEventListener('popstate', start);
  window.addEventListener('resize', () => { for (const c of state.charts.values()) if (c.visible) { draw(c); } });
  let saved = null;
  try { saved = localStorage.getItem('tributary-theme'); } catch (e) { /* private mode */ }
  applyTheme(saved);
  setInterval(tick, 1000);
  setInterval(() => { loadAlarms(state.generation); if (state.view === 'streaming') loadStreaming(state.generation); }, 5000);
  setInterval(() => loadHosts().catch(() => {}), 10000);
  start();
})();
