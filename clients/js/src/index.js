// meshslice-client: a client for the meshslice daemon's HTTP API (docs/HTTP.md) with no
// runtime dependencies. Works in browsers and in Node 18+ (fetch is built in; for the event
// stream pass a WebSocket implementation where the runtime has none).

/** An error answer of the API: HTTP status, JSON-RPC code (docs/CONTROL.md) and message. */
export class MeshsliceError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = 'MeshsliceError';
    this.status = status;
    this.code = code;
  }
}

const WS_PROTOCOL = 'meshslice.v1';
const WS_TOKEN_PREFIX = 'meshslice.token.';

export class MeshsliceClient {
  /**
   * @param {object} options
   * @param {string} [options.baseUrl] e.g. "http://127.0.0.1:7071"; default: the page's origin
   * @param {string} options.token     from `meshslice http token` (or `--read-only`)
   * @param {typeof fetch} [options.fetch]
   * @param {typeof WebSocket} [options.WebSocket]
   */
  constructor({ baseUrl, token, fetch: fetchImpl, WebSocket: wsImpl } = {}) {
    if (!token) throw new TypeError('MeshsliceClient needs a token (meshslice http token)');
    this.baseUrl = (baseUrl ?? (typeof location !== 'undefined' ? location.origin : '')).replace(/\/+$/, '');
    this.token = token;
    this._fetch = fetchImpl ?? globalThis.fetch?.bind(globalThis);
    this._WebSocket = wsImpl ?? globalThis.WebSocket;
    this._hub = null;
    this._self = null;
  }

  async _request(method, path, body) {
    const init = { method, headers: { Authorization: 'Bearer ' + this.token }, cache: 'no-store' };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const res = await this._fetch(this.baseUrl + path, init);
    const text = await res.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: reported below
    }
    if (!res.ok) {
      const err = json && json.error ? json.error : { code: 0, message: text || res.statusText };
      throw new MeshsliceError(res.status, err.code, err.message);
    }
    if (json === null) throw new MeshsliceError(res.status, 0, 'the answer is not JSON');
    return json;
  }

  status() { return this._request('GET', '/api/status'); }
  /** @returns {Promise<{peers: object[]}>} */
  peers() { return this._request('GET', '/api/peers'); }
  stores() { return this._request('GET', '/api/stores'); }
  /** Every slice of a store, or one device's: {store, slices} / {store, slice}. */
  get(store, device) {
    const path = '/api/stores/' + encodeURIComponent(store) + (device ? '/' + encodeURIComponent(device) : '');
    return this._request('GET', path);
  }
  /** Replaces this device's slice of `store` with `value` (any JSON value): {store, version}. */
  set(store, value) {
    if (value === undefined) return Promise.reject(new TypeError('set() needs a JSON value'));
    return this._request('PUT', '/api/stores/' + encodeURIComponent(store), value);
  }
  /** Sends text to every connected peer on namespace `ns`: {reached, failed}. */
  publish(ns, data) { return this._request('POST', '/api/publish', { ns, data }); }
  allowList() { return this._request('GET', '/api/mesh/allow-list'); }
  allow(device) { return this._request('POST', '/api/mesh/allow', { device }); }
  revoke(device) { return this._request('POST', '/api/mesh/revoke', { device }); }
  down() { return this._request('POST', '/api/down'); }
  async metrics() {
    const res = await this._fetch(this.baseUrl + '/metrics', { headers: { Authorization: 'Bearer ' + this.token } });
    if (!res.ok) throw new MeshsliceError(res.status, 0, await res.text());
    return res.text();
  }
  /** This device's ID (asked once, then remembered). */
  async deviceId() {
    if (!this._self) this._self = this.status().then((s) => s.device, (e) => { this._self = null; throw e; });
    return this._self;
  }

  /**
   * Follows the event stream (the events of `meshslice watch --json`). Reconnects with backoff
   * until close() is called. onOpen runs on every (re)connection: anything may have been
   * missed before it.
   * @returns {{close(): void}}
   */
  watch(onEvent, { onOpen, onClose } = {}) {
    if (!this._hub) this._hub = new EventHub(this);
    return this._hub.add({ onEvent, onOpen, onClose });
  }
}

// One WebSocket per client, shared by every watch() and useSyncedStore() of it.
class EventHub {
  constructor(client) {
    this.client = client;
    this.listeners = new Set();
    this.socket = null;
    this.open = false;
    this.retryMs = 500;
    this.timer = null;
  }

  add(listener) {
    this.listeners.add(listener);
    if (!this.socket && !this.timer) this.connect();
    else if (this.open && listener.onOpen) queueMicrotask(() => this.listeners.has(listener) && listener.onOpen());
    return {
      close: () => {
        this.listeners.delete(listener);
        if (this.listeners.size === 0) this.shutdown();
      },
    };
  }

  connect() {
    this.timer = null;
    const Ws = this.client._WebSocket;
    if (!Ws) throw new TypeError('no WebSocket implementation: pass one as the WebSocket option');
    const url = this.client.baseUrl.replace(/^http/, 'ws') + '/api/events';
    const ws = new Ws(url, [WS_PROTOCOL, WS_TOKEN_PREFIX + this.client.token]);
    this.socket = ws;
    ws.onopen = () => {
      this.open = true;
      this.retryMs = 500;
      for (const l of [...this.listeners]) l.onOpen?.();
    };
    ws.onmessage = (m) => {
      let event;
      try {
        event = JSON.parse(typeof m.data === 'string' ? m.data : String(m.data));
      } catch {
        return;
      }
      for (const l of [...this.listeners]) l.onEvent?.(event);
    };
    ws.onclose = () => {
      const was = this.open;
      this.open = false;
      if (this.socket !== ws) return;
      this.socket = null;
      if (was) for (const l of [...this.listeners]) l.onClose?.();
      if (this.listeners.size === 0) return;
      this.timer = setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 10000);
    };
    ws.onerror = () => {};  // onclose follows
  }

  shutdown() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const ws = this.socket;
    this.socket = null;
    this.open = false;
    if (ws) ws.close();
  }
}

/** A slice as Truffle's DeviceSlice: {deviceId, data, version, updatedAt}. */
export function toDeviceSlice(slice) {
  const data = 'value' in slice ? slice.value : 'data' in slice ? slice.data : slice.data_base64;
  return { deviceId: slice.device, data, version: slice.version, updatedAt: slice.updated_at ?? Date.now() };
}

/**
 * A live mirror of one store (framework-agnostic; useSyncedStore builds on it): a snapshot
 * {localSlice, localData, version, remote, ready, connected, error} that is replaced on every
 * change, and set().
 */
export class SyncedStoreMirror {
  constructor(client, storeId) {
    this.client = client;
    this.storeId = storeId;
    this.listeners = new Set();
    this.snapshot = { localSlice: null, localData: null, version: 0, remote: {}, ready: false, connected: false, error: null };
    this.self = null;
    this.sub = null;
  }

  start() {
    if (this.sub) return;
    this.sub = this.client.watch((e) => this.onEvent(e), {
      onOpen: () => { this.update({ connected: true }); this.reload(); },
      onClose: () => this.update({ connected: false }),
    });
  }

  stop() {
    if (this.sub) this.sub.close();
    this.sub = null;
  }

  subscribe(listener) {
    this.listeners.add(listener);
    this.start();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  getSnapshot() { return this.snapshot; }

  update(changes) {
    this.snapshot = { ...this.snapshot, ...changes };
    for (const l of [...this.listeners]) l();
  }

  async reload() {
    try {
      this.self = await this.client.deviceId();
      const answer = await this.client.get(this.storeId).catch((e) => {
        if (e instanceof MeshsliceError && e.status === 404) return { slices: [] };  // no store yet
        throw e;
      });
      let local = null;
      const remote = {};
      for (const s of answer.slices) {
        const ds = toDeviceSlice(s);
        if (s.local) local = ds;
        else remote[ds.deviceId] = ds;
      }
      this.update({ localSlice: local, localData: local ? local.data : null, version: local ? local.version : 0,
        remote, ready: true, error: null });
    } catch (e) {
      this.update({ error: e, ready: true });
    }
  }

  onEvent(e) {
    if (e.store !== this.storeId) return;
    if (e.type === 'slice_updated') {
      const ds = toDeviceSlice({ ...e, updated_at: Date.now() });
      if (e.local) {
        if (ds.version < this.snapshot.version) return;
        this.update({ localSlice: ds, localData: ds.data, version: ds.version });
      } else {
        const old = this.snapshot.remote[ds.deviceId];
        if (old && old.version > ds.version) return;
        this.update({ remote: { ...this.snapshot.remote, [ds.deviceId]: ds } });
      }
    } else if (e.type === 'slice_removed') {
      if (!(e.device in this.snapshot.remote)) return;
      const remote = { ...this.snapshot.remote };
      delete remote[e.device];
      this.update({ remote });
    }
  }

  /** Sets this device's slice; `value` may be a function of the current local data. */
  async set(value) {
    const next = typeof value === 'function' ? value(this.snapshot.localData) : value;
    const { version } = await this.client.set(this.storeId, next);
    if (version >= this.snapshot.version) {
      const ds = { deviceId: this.self ?? (await this.client.deviceId()), data: next, version, updatedAt: Date.now() };
      this.update({ localSlice: ds, localData: next, version });
    }
    return version;
  }
}
