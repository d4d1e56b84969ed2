// meshslice dashboard (docs/HTTP.md, "Dashboard"). Plain JavaScript, no dependencies: it reads
// the REST API once, then follows the WebSocket event stream and refreshes what an event
// changed. Every value shown comes from other devices: it is only ever set as text, never as
// HTML.
'use strict';

(() => {
  const TOKEN_KEY = 'meshslice.token';
  const MAX_EVENTS = 200;
  const LEFT_PEER_KEEP_MS = 5 * 60 * 1000;
  const $ = (id) => document.getElementById(id);

  const state = {
    token: null,
    status: null,
    peers: new Map(),     // device -> peer JSON (+ left: {reason, at})
    stores: new Map(),    // store -> {local_version, devices, slices: [...]}
    socket: null,
    retryMs: 1000,
  };

  // ---- token -------------------------------------------------------------------------------

  function takeTokenFromUrl() {
    const m = /(?:^#|&)token=([A-Za-z0-9_-]+)/.exec(location.hash);
    if (!m) return;
    localStorage.setItem(TOKEN_KEY, m[1]);
    history.replaceState(null, '', location.pathname + location.search);  // keep it out of the address bar
  }

  function showLogin(message) {
    $('main').hidden = true;
    $('login').hidden = false;
    $('forget').hidden = true;
    $('login-error').hidden = !message;
    $('login-error').textContent = message || '';
    setLink('offline', 'no token');
  }

  // ---- API ---------------------------------------------------------------------------------

  class Unauthorized extends Error {}

  async function api(path) {
    const res = await fetch(path, { headers: { Authorization: 'Bearer ' + state.token }, cache: 'no-store' });
    if (res.status === 401) throw new Unauthorized('the token was refused');
    const body = await res.json();
    if (!res.ok) throw new Error(body.error ? body.error.message : res.statusText);
    return body;
  }

  async function loadStatus() {
    state.status = await api('/api/status');
    renderDevice();
  }

  async function loadPeers() {
    const { peers } = await api('/api/peers');
    const seen = new Set();
    for (const p of peers) {
      seen.add(p.device);
      state.peers.set(p.device, p);
    }
    for (const [id, p] of state.peers) {
      if (!seen.has(id) && !p.left) p.left = { reason: 'gone', at: Date.now() };
    }
    renderPeers();
  }

  async function loadStore(id) {
    try {
      const { slices } = await api('/api/stores/' + encodeURIComponent(id));
      const entry = state.stores.get(id) || {};
      entry.slices = slices;
      state.stores.set(id, entry);
    } catch (e) {
      if (e instanceof Unauthorized) throw e;
      state.stores.delete(id);  // gone meanwhile
    }
    renderStores();
  }

  async function loadStores() {
    const { stores } = await api('/api/stores');
    for (const s of stores) {
      const entry = state.stores.get(s.store) || {};
      Object.assign(entry, s);
      state.stores.set(s.store, entry);
    }
    await Promise.all(stores.map((s) => loadStore(s.store)));
    renderStores();
  }

  // Refreshes coalesced per key: a burst of events causes one request.
  const pending = new Map();
  function refreshSoon(key, fn) {
    if (pending.has(key)) return;
    pending.set(key, setTimeout(() => {
      pending.delete(key);
      fn().catch(onError);
    }, 150));
  }

  // ---- rendering ---------------------------------------------------------------------------

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') e.className = v;
      else if (k === 'data') for (const [dk, dv] of Object.entries(v)) e.dataset[dk] = dv;
      else e.setAttribute(k, v);
    }
    for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return e;
  }

  function cell(label, content, cls) {
    const td = el('td', { 'data-label': label, class: cls || '' });
    td.append(content instanceof Node ? content : document.createTextNode(content));
    return td;
  }

  function shortId(id) { return id ? id.slice(0, 9) : ''; }

  function ago(ms) {
    if (ms == null) return '—';
    const s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return s + ' s ago';
    if (s < 3600) return Math.floor(s / 60) + ' min ago';
    if (s < 86400) return Math.floor(s / 3600) + ' h ago';
    return Math.floor(s / 86400) + ' d ago';
  }

  function duration(s) {
    if (s < 60) return s + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min';
    if (s < 86400) return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
    return Math.floor(s / 86400) + ' d ' + Math.floor((s % 86400) / 3600) + ' h';
  }

  function nameOf(device) {
    if (state.status && device === state.status.device) return state.status.name || 'this device';
    const p = state.peers.get(device);
    return p && p.name ? p.name : shortId(device);
  }

  function valueText(slice) {
    if ('value' in slice) return JSON.stringify(slice.value);
    if ('data' in slice) return slice.data;
    return 'base64:' + (slice.data_base64 || '');
  }

  function renderDevice() {
    const s = state.status;
    if (!s) return;
    $('self-name').textContent = s.name || '(no name)';
    $('self-device').textContent = s.device;
    $('self-listen').textContent = (s.listen_addresses || [s.listen]).join(', ');
    $('self-mesh').textContent = s.mesh_tag;
    $('self-uptime').textContent = duration(s.uptime_s) + ' (pid ' + s.pid + ')';
    $('self-protocol').textContent = 'v' + s.protocol_version + (s.mdns ? ', mDNS' : ', static peers') +
      (s.allow_list ? ', allow-list on' : '');
    document.title = 'meshslice · ' + (s.name || shortId(s.device));
  }

  function renderPeers() {
    const body = $('peers').tBodies[0];
    const now = Date.now();
    const rows = [];
    let linked = 0;
    const list = [...state.peers.values()].sort((a, b) => (a.name || a.device).localeCompare(b.name || b.device));
    for (const p of list) {
      if (p.left && now - p.left.at > LEFT_PEER_KEEP_MS) {
        state.peers.delete(p.device);
        continue;
      }
      const st = p.left ? 'left' : p.linked === false ? 'reconnecting' : 'linked';
      if (st === 'linked') ++linked;
      const stateText = p.left ? 'left (' + p.left.reason + ')' : st;
      const heard = p.left ? 'left ' + ago(now - p.left.at) : p.silent_ms == null ? '—' : ago(p.silent_ms);
      const rtt = p.left || p.rtt_ms == null ? '—' : p.rtt_ms < 1 ? p.rtt_ms.toFixed(2) + ' ms' : p.rtt_ms.toFixed(1) + ' ms';
      const tr = el('tr', { class: st, data: { peer: p.device, state: st } },
        cell('Name', p.name || '(no name)'),
        cell('State', el('span', { class: 'state-' + st }, stateText)),
        cell('Address', p.address || '—', 'id'),
        cell('Last heard', heard),
        cell('RTT', rtt),
        cell('Device', el('span', { class: 'id', title: p.device }, p.device)));
      rows.push(tr);
    }
    body.replaceChildren(...rows);
    $('peer-count').textContent = linked ? '(' + linked + ' linked)' : '';
    $('no-peers').hidden = rows.length > 0;
    $('peers').hidden = rows.length === 0;
  }

  function renderStores() {
    const out = [];
    const now = Date.now();
    for (const id of [...state.stores.keys()].sort()) {
      const s = state.stores.get(id);
      const rows = (s.slices || []).map((slice) => el('tr', { data: { store: id, device: slice.device, version: String(slice.version) } },
        cell('Device', el('span', {}, nameOf(slice.device), ...(slice.local ? [el('span', { class: 'tag' }, 'this device')] : []))),
        cell('Version', String(slice.version), 'id'),
        cell('Updated', slice.updated_at ? ago(now - slice.updated_at) : 'just now'),
        cell('Value', valueText(slice), 'value')));
      const table = el('table', { class: 'cards' },
        el('thead', {}, el('tr', {}, el('th', {}, 'Device'), el('th', {}, 'Version'), el('th', {}, 'Updated'), el('th', {}, 'Value'))),
        el('tbody', {}, ...rows));
      out.push(el('div', { class: 'store', data: { store: id } },
        el('h3', {}, id, el('span', { class: 'count' }, ' · ' + rows.length + (rows.length === 1 ? ' slice' : ' slices'))),
        rows.length ? table : el('p', { class: 'empty' }, 'No slice.')));
    }
    $('stores').replaceChildren(...out);
    $('store-count').textContent = out.length ? '(' + out.length + ')' : '';
    $('no-stores').hidden = out.length > 0;
  }

  function describe(e) {
    switch (e.type) {
      case 'peer_joined': return [nameOf(e.device) + ' joined from ' + e.address, 'peer joined'];
      case 'peer_updated': return [nameOf(e.device) + ' is now at ' + e.address, 'peer updated'];
      case 'peer_left': return [nameOf(e.device) + ' left (' + e.reason + ')', 'peer left'];
      case 'slice_updated': return [e.store + ' ← ' + nameOf(e.device) + ' v' + e.version + ': ' + valueText(e), 'slice'];
      case 'slice_removed': return [e.store + ': ' + nameOf(e.device) + "'s slice removed (" + e.reason + ')', 'slice gone'];
      default: return [JSON.stringify(e), e.type || 'event'];
    }
  }

  function addEvent(e) {
    const [text, kind] = describe(e);
    const t = new Date();
    const li = el('li', { data: { type: e.type || '' } },
      el('time', { datetime: t.toISOString() }, t.toLocaleTimeString([], { hour12: false })),
      el('span', { class: 'kind' }, kind),
      el('span', { class: 'text' }, text));
    const list = $('events');
    list.prepend(li);
    while (list.children.length > MAX_EVENTS) list.lastChild.remove();
  }

  function setLink(stateName, text) {
    const pill = $('link');
    pill.dataset.state = stateName;
    pill.textContent = text;
  }

  // ---- live updates ------------------------------------------------------------------------

  function onEvent(e) {
    addEvent(e);
    if (e.type === 'peer_joined' || e.type === 'peer_updated') {
      const p = state.peers.get(e.device) || {};
      delete p.left;
      state.peers.set(e.device, Object.assign(p, { device: e.device, name: e.name, address: e.address,
        protocol_version: e.protocol_version, linked: true }));
      renderPeers();
      refreshSoon('peers', loadPeers);
      refreshSoon('status', loadStatus);
    } else if (e.type === 'peer_left') {
      const p = state.peers.get(e.device);
      if (p) p.left = { reason: e.reason, at: Date.now() };
      renderPeers();
      refreshSoon('status', loadStatus);
    } else if (e.type === 'slice_updated' || e.type === 'slice_removed') {
      const s = state.stores.get(e.store) || { slices: [] };
      state.stores.set(e.store, s);
      s.slices = (s.slices || []).filter((x) => x.device !== e.device);
      if (e.type === 'slice_updated') {
        const slice = { device: e.device, local: e.local, version: e.version, updated_at: Date.now() };
        for (const k of ['value', 'data', 'data_base64']) if (k in e) slice[k] = e[k];
        if (e.local) s.slices.unshift(slice); else s.slices.push(slice);
      }
      renderStores();
      refreshSoon('store:' + e.store, () => loadStore(e.store));
    }
  }

  function connect() {
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/api/events';
    const ws = new WebSocket(url, ['meshslice.v1', 'meshslice.token.' + state.token]);
    state.socket = ws;
    ws.onopen = () => {
      state.retryMs = 1000;
      setLink('live', 'live');
      // Anything missed while the stream was down.
      Promise.all([loadStatus(), loadPeers(), loadStores()]).catch(onError);
    };
    ws.onmessage = (m) => {
      try { onEvent(JSON.parse(m.data)); } catch (err) { console.warn('bad event', err); }
    };
    ws.onclose = () => {
      if (state.socket !== ws) return;
      state.socket = null;
      setLink('offline', 'offline, retrying');
      setTimeout(() => { if (state.token) start(); }, state.retryMs);
      state.retryMs = Math.min(state.retryMs * 2, 10000);
    };
  }

  function onError(err) {
    if (err instanceof Unauthorized) {
      localStorage.removeItem(TOKEN_KEY);
      state.token = null;
      if (state.socket) state.socket.close();
      showLogin('The daemon refused this token.');
      return;
    }
    console.warn(err);
    setLink('offline', 'offline, retrying');
  }

  async function start() {
    setLink('connecting', 'connecting');
    try {
      await loadStatus();
    } catch (err) {
      onError(err);
      if (!(err instanceof Unauthorized)) setTimeout(() => { if (state.token) start(); }, state.retryMs);
      return;
    }
    $('login').hidden = true;
    $('main').hidden = false;
    $('forget').hidden = false;
    $('access').textContent = state.token.startsWith('msr_') ? 'read-only token' : '';
    connect();
  }

  // ---- start -------------------------------------------------------------------------------

  document.addEventListener('DOMContentLoaded', () => {
    $('login-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const t = $('login-token').value.trim();
      if (!t) return;
      localStorage.setItem(TOKEN_KEY, t);
      state.token = t;
      start();
    });
    $('forget').addEventListener('click', () => {
      localStorage.removeItem(TOKEN_KEY);
      state.token = null;
      if (state.socket) state.socket.close();
      showLogin();
    });
    // Ages tick every second; link figures (last heard, RTT) are read every 2 s.
    setInterval(() => { if (state.status) { renderPeers(); renderStores(); } }, 1000);
    setInterval(() => { if (state.socket && state.socket.readyState === 1) loadPeers().catch(onError); }, 2000);
    takeTokenFromUrl();
    state.token = localStorage.getItem(TOKEN_KEY);
    if (!state.token) {
      showLogin();
      return;
    }
    start();
  });
})();
