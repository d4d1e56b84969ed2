// js-libp2p gossipsub baseline for meshslice's benchmarks: the same job (one node's updates
// reaching another node process) done by a real peer stack a user would otherwise pick.
//
//   node gossip_bench.mjs [--size 1024] [--count 2000] [--rate 1000] [--seconds 3]
//
// The parent forks two node processes (publisher, subscriber) on 127.0.0.1 only: TCP + Noise +
// yamux + gossipsub (default options, signed messages), static dial (no mDNS on loopback).
// Phase 1, latency: the publisher sends `count` messages of `size` bytes at `rate`/s, each
// carrying its send time from process.hrtime (CLOCK_MONOTONIC, shared by the processes); the
// subscriber records receive - send. Phase 2, throughput: the publisher publishes as fast as it
// can for `seconds` (bounded number of publishes in flight); the subscriber counts what arrives.
// Prints one JSON line with p50/p99/p999 latency (µs) and msgs/s. Every wait is bounded.
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

// Node 20 lacks Promise.withResolvers (ES2024), which current releases of libp2p's helper
// packages (it-queue via mortice) call; this is the standard definition.
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function () {
    let resolve, reject
    const promise = new this((res, rej) => { resolve = res; reject = rej })
    return { promise, resolve, reject }
  }
}

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]])
  return acc
}, []))
const size = Number(args.size ?? 1024)
const count = Number(args.count ?? 2000)
const rate = Number(args.rate ?? 1000)
const seconds = Number(args.seconds ?? 3)
const topic = 'meshslice-bench'
const nowNs = () => process.hrtime.bigint()

async function makeNode () {
  const { createLibp2p } = await import('libp2p')
  const { tcp } = await import('@libp2p/tcp')
  const { noise } = await import('@chainsafe/libp2p-noise')
  const { yamux } = await import('@chainsafe/libp2p-yamux')
  const { gossipsub } = await import('@libp2p/gossipsub')
  const { identify } = await import('@libp2p/identify')
  return createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: {
      identify: identify(),
      pubsub: gossipsub({ allowPublishToZeroTopicPeers: true, emitSelf: false })
    }
  })
}

function percentile (sorted, p) {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]
}

const sleep = (ms) => new Promise(resolve => setTimeout(resolve, ms))

async function runChild (role) {
  const node = await makeNode()
  const pubsub = node.services.pubsub
  pubsub.subscribe(topic)
  const latencies = []
  let received = 0; let firstNs = 0n; let lastNs = 0n; let phase = 'latency'
  pubsub.addEventListener('message', (evt) => {
    if (evt.detail.topic !== topic) return
    const data = evt.detail.data
    const t = nowNs()
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
    const sent = view.getBigUint64(0)
    const kind = view.getUint8(8)
    if (kind === 1 && phase === 'latency') latencies.push(Number(t - sent) / 1000)
    if (kind === 2) {
      if (received === 0) firstNs = t
      lastNs = t
      ++received
    }
  })
  process.on('message', async (msg) => {
    if (msg.cmd === 'dial') {
      const { multiaddr } = await import('@multiformats/multiaddr')
      await node.dial(multiaddr(msg.addr))
      // The mesh is ready once the other side's subscription is known.
      for (let i = 0; i < 500 && pubsub.getSubscribers(topic).length === 0; ++i) await sleep(10)
      process.send({ ev: 'ready', peers: pubsub.getSubscribers(topic).length })
    } else if (msg.cmd === 'latency') {
      const buf = new Uint8Array(size)
      const view = new DataView(buf.buffer)
      const period = 1e9 / rate
      const start = nowNs()
      for (let i = 0; i < count; ++i) {
        const due = start + BigInt(Math.round(i * period))
        while (nowNs() < due) await sleep(Math.max(0, Number(due - nowNs()) / 1e6 - 0.2))
        view.setBigUint64(0, nowNs()); view.setUint8(8, 1); view.setUint32(9, i)
        pubsub.publish(topic, buf.slice()).catch(() => {})
      }
      process.send({ ev: 'sent' })
    } else if (msg.cmd === 'throughput') {
      const buf = new Uint8Array(size)
      const view = new DataView(buf.buffer)
      const end = nowNs() + BigInt(seconds * 1e9)
      let sent = 0
      const inflight = new Set()
      while (nowNs() < end && sent < 10_000_000) {
        view.setBigUint64(0, nowNs()); view.setUint8(8, 2); view.setUint32(9, sent)
        const p = pubsub.publish(topic, buf.slice()).catch(() => {}).finally(() => inflight.delete(p))
        inflight.add(p)
        ++sent
        if (inflight.size >= 256) await Promise.race(inflight)
      }
      await Promise.allSettled([...inflight])
      process.send({ ev: 'sent', sent })
    } else if (msg.cmd === 'phase') {
      phase = msg.phase
      process.send({ ev: 'ok' })
    } else if (msg.cmd === 'report') {
      latencies.sort((a, b) => a - b)
      const secs = Number(lastNs - firstNs) / 1e9
      process.send({
        ev: 'report',
        samples: latencies.length,
        p50_us: percentile(latencies, 0.5),
        p99_us: percentile(latencies, 0.99),
        p999_us: percentile(latencies, 0.999),
        received,
        msgs_per_s: secs > 0 ? received / secs : 0
      })
    } else if (msg.cmd === 'quit') {
      await node.stop()
      process.exit(0)
    }
  })
  process.send({ ev: 'listening', addr: node.getMultiaddrs()[0].toString(), role })
}

function waitFor (child, ev, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timeout waiting for ${ev}`)), ms)
    const on = (msg) => {
      if (msg.ev !== ev) return
      clearTimeout(timer)
      child.off('message', on)
      resolve(msg)
    }
    child.on('message', on)
  })
}

async function runParent () {
  const self = fileURLToPath(import.meta.url)
  const sub = fork(self, ['--child', 'sub', ...process.argv.slice(2)])
  const pub = fork(self, ['--child', 'pub', ...process.argv.slice(2)])
  const kill = () => { sub.kill('SIGKILL'); pub.kill('SIGKILL') }
  try {
    const subInfo = await waitFor(sub, 'listening', 20000)
    await waitFor(pub, 'listening', 20000)
    pub.send({ cmd: 'dial', addr: subInfo.addr })
    await waitFor(pub, 'ready', 10000)
    await sleep(1500) // one gossipsub heartbeat: both sides graft each other into the mesh
    pub.send({ cmd: 'latency' })
    await waitFor(pub, 'sent', 60000 + 2 * count * 1000 / rate)
    await sleep(500)
    sub.send({ cmd: 'phase', phase: 'throughput' })
    await waitFor(sub, 'ok', 5000)
    pub.send({ cmd: 'throughput' })
    const sentInfo = await waitFor(pub, 'sent', seconds * 1000 + 60000)
    await sleep(1000)
    sub.send({ cmd: 'report' })
    const report = await waitFor(sub, 'report', 10000)
    delete report.ev
    report.size = size
    report.published = sentInfo.sent
    console.log(JSON.stringify(report))
    pub.send({ cmd: 'quit' }); sub.send({ cmd: 'quit' })
    await sleep(300)
  } catch (e) {
    console.error('gossip_bench:', e.message)
    process.exitCode = 1
  } finally {
    kill()
  }
}

if (args.child) await runChild(args.child)
else await runParent()
