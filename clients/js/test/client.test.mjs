// MeshsliceClient against real daemons (docs/HTTP.md).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';

import { MeshsliceClient, MeshsliceError } from '../src/index.js';
import { WebSocketImpl } from './ws-shim.mjs';
import { eventually, meshslice, queue, startDaemon, tempRoot } from './harness.mjs';

let tmp, a, b, client;

before(async () => {
  tmp = tempRoot();
  a = await startDaemon(join(tmp.root, 'a'), ['--name', 'alpha', '--http', '127.0.0.1:0']);
  meshslice('mesh', 'join', a.invite, '--state-dir', join(tmp.root, 'b'));
  b = await startDaemon(join(tmp.root, 'b'), ['--name', 'beta', '--http', '127.0.0.1:0', '--peer', a.listen]);
  client = new MeshsliceClient({ baseUrl: a.baseUrl, token: a.token, WebSocket: WebSocketImpl });
  await eventually(async () => (await client.peers()).peers.length === 1, 15000, 'a and b to link');
});

after(async () => {
  await a?.stop();
  await b?.stop();
  tmp?.cleanup();
});

test('status, peers and stores have the control socket shapes', async () => {
  const s = await client.status();
  assert.equal(s.device, a.device);
  assert.equal(s.name, 'alpha');
  assert.equal(s.http, a.http);
  const { peers } = await client.peers();
  assert.equal(peers[0].device, b.device);
  assert.equal(peers[0].name, 'beta');
  assert.equal(peers[0].linked, true);
  assert.equal(typeof peers[0].silent_ms, 'number');
  assert.equal(await client.deviceId(), a.device);
});

test('set and get round-trip JSON values, and reach the peer', async () => {
  const value = { temp: 21.5, tags: ['x', 'y'], nested: { ok: true } };
  const { version } = await client.set('sensors', value);
  assert.ok(version > 0);
  const mine = await client.get('sensors', a.device);
  assert.deepEqual(mine.slice.value, value);
  assert.equal(mine.slice.version, version);
  const other = new MeshsliceClient({ baseUrl: b.baseUrl, token: b.readOnlyToken });
  await eventually(async () => {
    const got = await other.get('sensors').catch(() => null);
    return got && got.slices.some((s) => s.device === a.device && s.version === version);
  }, 15000, 'b to see the slice');
  const stores = await client.stores();
  assert.ok(stores.stores.some((s) => s.store === 'sensors' && s.local_version === version));
});

test('publish reaches the peer', async () => {
  const r = await client.publish('chat', 'hello');
  assert.deepEqual(r.reached, [b.device]);
});

test('errors carry the status and the JSON-RPC code', async () => {
  await assert.rejects(client.get('no-such-store'), (e) => e instanceof MeshsliceError && e.status === 404 && e.code === -32000);
  const bad = new MeshsliceClient({ baseUrl: a.baseUrl, token: 'msf_wrong' });
  await assert.rejects(bad.status(), (e) => e instanceof MeshsliceError && e.status === 401 && e.code === -32004);
  const readOnly = new MeshsliceClient({ baseUrl: a.baseUrl, token: a.readOnlyToken });
  await assert.rejects(readOnly.set('sensors', 1), (e) => e.status === 403 && e.code === -32005);
  await assert.rejects(readOnly.publish('chat', 'x'), (e) => e.status === 403);
  await assert.rejects(client.set('bad id', 1), (e) => e.status === 400 && e.code === -32602);
  assert.throws(() => new MeshsliceClient({ baseUrl: a.baseUrl }), TypeError);
});

test('watch() streams the events of `watch --json`', async () => {
  const events = queue();
  let opened = 0;
  const w = client.watch((e) => events.push(e), { onOpen: () => ++opened });
  try {
    await eventually(() => opened === 1, 10000, 'the stream to open');
    const writer = new MeshsliceClient({ baseUrl: b.baseUrl, token: b.token });
    const before = Date.now();
    const { version } = await writer.set('notes', { text: 'from b' });
    const e = await events.take((x) => x.type === 'slice_updated' && x.store === 'notes');
    // `at` is when the local node applied the event (ISO 8601, UTC, milliseconds).
    assert.match(e.at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    assert.ok(Date.parse(e.at) >= before - 1000 && Date.parse(e.at) <= Date.now() + 1000, `at ${e.at} is now`);
    const { at, ...rest } = e;
    assert.deepEqual(rest, { type: 'slice_updated', store: 'notes', device: b.device, local: false, version, value: { text: 'from b' } });
  } finally {
    w.close();  // an open stream would keep the test process alive after a failed assertion
  }
});

test('metrics are Prometheus text', async () => {
  const text = await client.metrics();
  assert.match(text, /^# HELP meshslice_info /m);
  assert.match(text, /^meshslice_peers\{state="linked"\} 1$/m);
});
