// A minimal WebSocket client (RFC 6455) on node:http for Node versions without a global
// WebSocket (Node < 22). Only what the client uses: constructor(url, protocols), onopen,
// onmessage ({data}), onclose, onerror, send(text), close(), readyState. Text frames only.
import { request } from 'node:http';
import { randomBytes, createHash } from 'node:crypto';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export class ShimWebSocket {
  constructor(url, protocols = []) {
    this.readyState = 0;
    this.protocol = '';
    this.onopen = this.onmessage = this.onclose = this.onerror = null;
    const key = randomBytes(16).toString('base64');
    const u = new URL(url.replace(/^ws/, 'http'));
    const req = request({
      host: u.hostname, port: u.port, path: u.pathname + u.search,
      headers: {
        Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': key,
        ...(protocols.length ? { 'Sec-WebSocket-Protocol': protocols.join(', ') } : {}),
      },
    });
    req.on('upgrade', (res, socket, head) => {
      if (this.readyState === 3) return socket.destroy();  // closed while connecting
      const accept = createHash('sha1').update(key + GUID).digest('base64');
      if (res.headers['sec-websocket-accept'] !== accept) return this._fail(socket);
      this.protocol = res.headers['sec-websocket-protocol'] || '';
      this.socket = socket;
      this.buf = Buffer.alloc(0);
      this.readyState = 1;
      socket.on('data', (d) => this._data(d));
      socket.on('close', () => this._closed());
      socket.on('error', () => {});
      this.onopen?.({});
      if (head.length) this._data(head);
    });
    req.on('response', (res) => { res.resume(); this._fail(null); });
    req.on('error', () => this._fail(null));
    req.end();
  }

  _fail(socket) {
    socket?.destroy();
    this.onerror?.({});
    this._closed();
  }

  _closed() {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.({});
  }

  _data(d) {
    this.buf = Buffer.concat([this.buf, d]);
    for (;;) {
      if (this.buf.length < 2) return;
      const op = this.buf[0] & 0x0f;
      let len = this.buf[1] & 0x7f;
      let off = 2;
      if (len === 126) { if (this.buf.length < 4) return; len = this.buf.readUInt16BE(2); off = 4; }
      else if (len === 127) { if (this.buf.length < 10) return; len = Number(this.buf.readBigUInt64BE(2)); off = 10; }
      if (this.buf.length < off + len) return;
      const payload = this.buf.subarray(off, off + len);
      this.buf = this.buf.subarray(off + len);
      if (op === 0x1) this.onmessage?.({ data: payload.toString('utf8') });
      else if (op === 0x9) this._send(0xA, payload);
      else if (op === 0x8) { this._send(0x8, payload.subarray(0, 2)); this.socket.end(); }
    }
  }

  _send(op, payload) {
    const mask = randomBytes(4);
    const len = payload.length;
    const head = len < 126 ? Buffer.from([0x80 | op, 0x80 | len])
      : len < 65536 ? Buffer.from([0x80 | op, 0x80 | 126, len >> 8, len & 0xff])
      : Buffer.concat([Buffer.from([0x80 | op, 0x80 | 127]), (() => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(len)); return b; })()]);
    const body = Buffer.from(payload);
    for (let i = 0; i < body.length; ++i) body[i] ^= mask[i % 4];
    this.socket.write(Buffer.concat([head, mask, body]));
  }

  send(text) { if (this.readyState === 1) this._send(0x1, Buffer.from(String(text))); }

  close() {
    if (this.readyState === 1) {
      this.readyState = 2;
      this._send(0x8, Buffer.from([0x03, 0xe8]));
      this.socket.end();
    } else if (this.readyState === 0) {
      this.readyState = 3;
    }
  }
}

export const WebSocketImpl = globalThis.WebSocket ?? ShimWebSocket;
