// Types of meshslice-client (src/index.js). Shapes follow docs/HTTP.md and docs/CONTROL.md.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export class MeshsliceError extends Error {
  /** HTTP status of the answer. */
  status: number;
  /** JSON-RPC error code (docs/CONTROL.md), e.g. -32000 not found, -32005 forbidden. */
  code: number;
}

export interface ClientOptions {
  /** e.g. "http://127.0.0.1:7071"; default: the page's origin. */
  baseUrl?: string;
  /** From `meshslice http token` (full) or `meshslice http token --read-only`. */
  token: string;
  fetch?: typeof fetch;
  /** A WebSocket constructor, for runtimes without a global one. */
  WebSocket?: unknown;
}

export interface Status {
  device: string; name: string; listen: string; listen_addresses: string[]; mesh_tag: string;
  peers: number; stores: number; state_dir: string; mdns: boolean; interfaces: string[];
  allow_list: boolean; watchers: number; protocol_version: number; pid: number;
  started_at: number; uptime_s: number; http: string | null;
}

export interface Peer {
  device: string; name: string; address: string; protocol_version: number;
  linked: boolean; silent_ms: number | null; rtt_ms: number | null; queued_bytes: number;
}

/** A slice as the API returns it: `value`, or `data` / `data_base64` for non-JSON data. */
export interface Slice {
  device: string; local: boolean; version: number; updated_at: number;
  value?: Json; data?: string; data_base64?: string;
}

/** `at`: when the local node emitted the event (ISO 8601, UTC, milliseconds). */
export type WatchEvent = { at: string } & (
  | { type: 'peer_joined' | 'peer_updated'; device: string; name: string; address: string; protocol_version: number }
  | { type: 'peer_left'; device: string; reason: string }
  | { type: 'slice_updated'; store: string; device: string; local: boolean; version: number; value?: Json; data?: string; data_base64?: string }
  | { type: 'slice_removed'; store: string; device: string; reason: string });

export interface Watch { close(): void }

export class MeshsliceClient {
  constructor(options: ClientOptions);
  readonly baseUrl: string;
  readonly token: string;
  status(): Promise<Status>;
  peers(): Promise<{ peers: Peer[] }>;
  stores(): Promise<{ stores: { store: string; local_version: number; devices: number }[] }>;
  get(store: string): Promise<{ store: string; slices: Slice[] }>;
  get(store: string, device: string): Promise<{ store: string; slice: Slice }>;
  set(store: string, value: Json): Promise<{ store: string; version: number }>;
  publish(ns: string, data: string): Promise<{ reached: string[]; failed: { device: string; error: string }[] }>;
  allowList(): Promise<{ enabled: boolean; devices: string[] }>;
  allow(device: string): Promise<{ enabled: boolean; devices: string[] }>;
  revoke(device: string): Promise<{ enabled: boolean; devices: string[] }>;
  down(): Promise<{ stopping: boolean }>;
  /** /metrics in the Prometheus text format. */
  metrics(): Promise<string>;
  deviceId(): Promise<string>;
  watch(onEvent: (event: WatchEvent) => void, handlers?: { onOpen?: () => void; onClose?: () => void }): Watch;
}

/** Truffle's DeviceSlice shape. */
export interface DeviceSlice<T = Json> { deviceId: string; data: T; version: number; updatedAt: number }

export interface SyncedStoreSnapshot<T = Json> {
  localSlice: DeviceSlice<T> | null;
  localData: T | null;
  version: number;
  remote: Record<string, DeviceSlice<T>>;
  ready: boolean;
  connected: boolean;
  error: Error | null;
}

export function toDeviceSlice(slice: Slice): DeviceSlice;

export class SyncedStoreMirror<T = Json> {
  constructor(client: MeshsliceClient, storeId: string);
  subscribe(listener: () => void): () => void;
  getSnapshot(): SyncedStoreSnapshot<T>;
  set(value: T | ((current: T | null) => T)): Promise<number>;
}
