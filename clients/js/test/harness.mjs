// Real meshslice daemons for the client's tests: `meshslice up` on 127.0.0.1 only (no mDNS),
// the HTTP API on a free loopback port. The binary: $MESHSLICE_BIN, else ../../build/meshslice.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const here = dirname(fileURLToPath(import.meta.url));
export const BIN = process.env.MESHSLICE_BIN || resolve(here, '../../../build/meshslice');

export function tempRoot() {
  const root = mkdtempSync(join(tmpdir(), 'ms-js-'));
  return { root, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

export function meshslice(...args) {
  return execFileSync(BIN, args, { encoding: 'utf8', timeout: 20000 });
}

// Starts a daemon and resolves once it printed "ready": {dir, device, listen, http, invite,
// token, readOnlyToken, stop(), kill()}.
export function startDaemon(dir, args = []) {
  const child = spawn(BIN, ['up', '--state-dir', dir, '--no-mdns', '--listen', '127.0.0.1:0', '--log-level', 'warn', ...args],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolveStart, reject) => {
    const info = { dir, child };
    const timer = setTimeout(() => reject(new Error('daemon on ' + dir + ' did not start')), 20000);
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      if (line === 'ready') {
        clearTimeout(timer);
        if (info.http) {
          info.token = readFileSync(join(dir, 'http.token'), 'utf8').trim();
          info.readOnlyToken = readFileSync(join(dir, 'http-readonly.token'), 'utf8').trim();
          info.baseUrl = 'http://' + info.http;
        }
        info.exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
        info.stop = () => { child.kill('SIGTERM'); return info.exited; };
        info.kill = () => { child.kill('SIGKILL'); return info.exited; };
        resolveStart(info);
        return;
      }
      const i = line.indexOf(': ');
      if (i > 0) info[line.slice(0, i)] = line.slice(i + 2);
    });
    child.once('exit', (code) => reject(new Error('daemon exited with ' + code)));
  });
}

// Resolves when pred() holds; rejects after timeoutMs. The state lives in other processes,
// so this polls with a deadline.
export async function eventually(pred, timeoutMs = 15000, what = 'condition') {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await pred()) return;
    if (Date.now() > deadline) throw new Error('timed out waiting for ' + what);
    await new Promise((r) => setTimeout(r, 25));
  }
}

// Waits for the next value `next()` yields that satisfies pred (event queues of the tests).
export function queue() {
  const items = [];
  const waiters = [];
  return {
    push(x) {
      items.push(x);
      for (const w of waiters.splice(0)) w();
    },
    async take(pred, timeoutMs = 15000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const i = items.findIndex(pred);
        if (i >= 0) return items.splice(i, 1)[0];
        const left = deadline - Date.now();
        if (left <= 0) throw new Error('no matching item in time; have ' + JSON.stringify(items).slice(0, 500));
        await new Promise((r) => {
          const timer = setTimeout(r, left);
          waiters.push(() => { clearTimeout(timer); r(); });
        });
      }
    },
  };
}
