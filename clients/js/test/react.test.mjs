// useSyncedStore against real daemons: a React tree (react-test-renderer) follows this
// device's slice, the peer's, and the peer's death.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createElement } from 'react';
import TestRenderer from 'react-test-renderer';

import { MeshsliceClient } from '../src/index.js';
import { MeshsliceProvider, useSyncedStore } from '../src/react.js';
import { WebSocketImpl } from './ws-shim.mjs';
import { eventually, meshslice, startDaemon, tempRoot } from './harness.mjs';

globalThis.IS_REACT_ACT_ENVIRONMENT = false;  // updates arrive from sockets, not from act()

let tmp, a, b;

before(async () => {
  tmp = tempRoot();
  a = await startDaemon(join(tmp.root, 'a'), ['--http', '127.0.0.1:0']);
  meshslice('mesh', 'join', a.invite, '--state-dir', join(tmp.root, 'b'));
  b = await startDaemon(join(tmp.root, 'b'), ['--peer', a.listen]);
});

after(async () => {
  await a?.stop();
  if (b?.child.exitCode === null) await b.stop();
  tmp?.cleanup();
});

test('useSyncedStore follows local and remote slices live', async () => {
  const client = new MeshsliceClient({ baseUrl: a.baseUrl, token: a.token, WebSocket: WebSocketImpl });
  let latest = null;
  function Probe() {
    latest = useSyncedStore('board');
    return null;
  }
  const tree = TestRenderer.create(createElement(MeshsliceProvider, { client }, createElement(Probe)));
  await eventually(() => latest.ready && latest.connected, 15000, 'the hook to load');
  assert.equal(latest.localData, null);
  assert.equal(latest.version, 0);
  assert.deepEqual(latest.remote, {});

  // set() from the hook: localData and version follow.
  const version = await latest.set({ note: 'hello from a' });
  await eventually(() => latest.version === version, 10000, 'the local version');
  assert.deepEqual(latest.localData, { note: 'hello from a' });
  assert.equal(latest.localSlice.deviceId, a.device);
  const bumped = await latest.set((cur) => ({ ...cur, count: 1 }));
  await eventually(() => latest.version === bumped, 10000, 'the updater form');
  assert.deepEqual(latest.localData, { note: 'hello from a', count: 1 });

  // The peer writes: remote[b] follows, in Truffle's DeviceSlice shape.
  meshslice('set', 'board', '{"note":"hi from b"}', '--state-dir', b.dir);
  await eventually(() => latest.remote[b.device]?.data?.note === 'hi from b', 15000, "b's slice");
  const slice = latest.remote[b.device];
  assert.equal(slice.deviceId, b.device);
  assert.ok(slice.version > 0);
  assert.equal(typeof slice.updatedAt, 'number');

  // The peer is killed: its slice leaves `remote`.
  await b.kill();
  await eventually(() => !(b.device in latest.remote), 15000, "b's slice to go");
  tree.unmount();
});
