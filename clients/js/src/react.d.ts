// Types of meshslice-client/react (src/react.js).
import type { ReactNode } from 'react';
import type { Json, MeshsliceClient, SyncedStoreSnapshot } from './index.js';

export function MeshsliceProvider(props: { client: MeshsliceClient; children?: ReactNode }): JSX.Element;

export interface UseSyncedStoreResult<T = Json> extends SyncedStoreSnapshot<T> {
  /** Replaces this device's slice; resolves to the new version. */
  set(value: T | ((current: T | null) => T)): Promise<number>;
}

export function useSyncedStore<T = Json>(storeId: string, options?: { client?: MeshsliceClient }): UseSyncedStoreResult<T>;
