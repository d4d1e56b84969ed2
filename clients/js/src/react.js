// React bindings: useSyncedStore(storeId) in the shape Truffle's hook users know, on top of
// SyncedStoreMirror. React (>= 18) is a peer dependency: the app brings its own.
import { createContext, createElement, useCallback, useContext, useMemo, useSyncExternalStore } from 'react';

import { SyncedStoreMirror } from './index.js';

const ClientContext = createContext(null);

/** Makes `client` the one useSyncedStore() uses below it. */
export function MeshsliceProvider({ client, children }) {
  return createElement(ClientContext.Provider, { value: client }, children);
}

// One mirror per (client, store), shared by every component that shows the store.
const mirrors = new WeakMap();
function mirrorFor(client, storeId) {
  let byStore = mirrors.get(client);
  if (!byStore) mirrors.set(client, (byStore = new Map()));
  let m = byStore.get(storeId);
  if (!m) byStore.set(storeId, (m = new SyncedStoreMirror(client, storeId)));
  return m;
}

/**
 * This device's slice of `storeId` and every other device's, live:
 *   { localData, version, remote, set, localSlice, ready, connected, error }
 * localData is this device's value (null until set), version its version (0 until set),
 * remote maps device IDs to DeviceSlices {deviceId, data, version, updatedAt}; set(value or
 * updater) replaces this device's slice and resolves to the new version.
 */
export function useSyncedStore(storeId, options = {}) {
  const fromContext = useContext(ClientContext);
  const client = options.client ?? fromContext;
  if (!client) throw new Error('useSyncedStore needs a client: <MeshsliceProvider client={...}> or { client }');
  const mirror = useMemo(() => mirrorFor(client, storeId), [client, storeId]);
  const snapshot = useSyncExternalStore(
    useCallback((onChange) => mirror.subscribe(onChange), [mirror]),
    () => mirror.getSnapshot(),
    () => mirror.getSnapshot(),
  );
  const set = useCallback((value) => mirror.set(value), [mirror]);
  return useMemo(() => ({ ...snapshot, set }), [snapshot, set]);
}
