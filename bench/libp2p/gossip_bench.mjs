// js-libp2p gossipsub baseline for meshslice's benchmarks: the same job (one node's updates
// reaching the other node processes) done by a real peer stack a user would otherwise pick.
//
//   node gossip_bench.mjs [--nodes 2] [--size 1024] [--rates 100,1000] [--counts 1000,2000] [--seconds 3]
//
// The parent forks `nodes` node processes on 127.0.0.1 only: one publisher and nodes-1
// subscribers, TCP + Noise + yamux + gossipsub (default options, signed messages), a full mesh
// of static dials (every node dials the ones before it; no mDNS on loopback).
// Phase 1, latency, once per rate: the publisher sends `count` messages (`counts`, one per
// rate, default 2000) of `size` bytes at `rate`/s, each carrying its send time from
// process.hrtime (CLOCK_MONOTONIC, shared by the processes); each subscriber records
// receive - send. Phase 2, throughput: the publisher publishes as fast as it can for `seconds`
// (bounded number of publishes in flight); the subscribers count what arrives.
// Prints one JSON line: per rate the median subscriber's p50, the worst subscriber's p99/p999
// (µs), the fewest messages a subscriber got (late ones included: it waits until they stop
// coming), the publisher's achieved rate and the median subscriber's delivered rate; and the
// throughput phase's msgs/s summed over subscribers. Every wait is bounded.
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
const nodes = Math.max(2, Math.min(8, Number(args.nodes ?? 2)))
const size = Number(args.size ?? 1024)
const rates = String(args.rates ?? args.rate ?? '100,1000').split(',').map(Number).filter(r => r > 0)
const counts = rates.map((r, i) => Number(String(args.counts ?? args.count ?? '').split(',')[i] || 2000))
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
  let latencies = []
  let latFirstNs = 0n; let latLastNs = 0n
  let received = 0; let firstNs = 0n; let lastNs = 0n; let phase = 'latency'
  pubsub.addEventListener('message', (evt) => {
    if (evt.detail.topic !== topic) return
    const data = evt.detail.data
    const t = nowNs()
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
    const sent = view.getBigUint64(0)
    const kind = view.getUint8(8)
    if (kind === 1 && phase === 'latency') {
      if (latencies.length === 0) latFirstNs = t
      latLastNs = t
      latencies.push(Number(t - sent) / 1000)
    }
    if (kind === 2) {
      if (received === 0) firstNs = t
      lastNs = t
      ++received
    }
  })
  process.on('message', async (msg) => {
    if (msg.cmd === 'dial') {
      const { multiaddr } = await import('@multiformats/multiaddr')
      for (const a of msg.addrs) await node.dial(multiaddr(a))
      process.send({ ev: 'dialed' })
    } else if (msg.cmd === 'wait-subscribers') {
      // The mesh is ready once every other node's subscription is known.
      for (let i = 0; i < 1000 && pubsub.getSubscribers(topic).length < msg.want; ++i) await sleep(10)
      process.send({ ev: 'ready', peers: pubsub.getSubscribers(topic).length })
    } else if (msg.cmd === 'latency') {
      const rate = msg.rate
      const count = msg.count
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
      process.send({ ev: 'sent', seconds: Number(nowNs() - start) / 1e9 })
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
    } else if (msg.cmd === 'count') {
      process.send({ ev: 'count', n: latencies.length })
    } else if (msg.cmd === 'latency-report') {
      latencies.sort((a, b) => a - b)
      const secs = Number(latLastNs - latFirstNs) / 1e9
      process.send({
        ev: 'latency-report',
        samples: latencies.length,
        p50_us: percentile(latencies, 0.5),
        p99_us: percentile(latencies, 0.99),
        p999_us: percentile(latencies, 0.999),
        delivered_per_s: secs > 0 ? (latencies.length - 1) / secs : 0
      })
      latencies = []
    } else if (msg.cmd === 'report') {
      const secs = Number(lastNs - firstNs) / 1e9
      process.send({ ev: 'report', received, msgs_per_s: secs > 0 ? received / secs : 0 })
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

const median = (v) => percentile([...v].sort((a, b) => a - b), 0.5)

async function runParent () {
  const self = fileURLToPath(import.meta.url)
  const kids = []
  const kill = () => { for (const k of kids) k.kill('SIGKILL') }
  try {
    const addrs = []
    for (let i = 0; i < nodes; ++i) {
      const k = fork(self, ['--child', i === 0 ? 'pub' : 'sub', ...process.argv.slice(2)])
      kids.push(k)
      addrs.push((await waitFor(k, 'listening', 30000)).addr)
    }
    for (let i = 1; i < nodes; ++i) { // node i dials nodes 0..i-1: a full mesh
      kids[i].send({ cmd: 'dial', addrs: addrs.slice(0, i) })
      await waitFor(kids[i], 'dialed', 30000)
    }
    for (const k of kids) k.send({ cmd: 'wait-subscribers', want: nodes - 1 })
    await Promise.all(kids.map(k => waitFor(k, 'ready', 30000)))
    await sleep(1500) // one gossipsub heartbeat: the nodes graft each other into the mesh
    const [pub, ...subs] = kids
    const latency = []
    for (const [i, rate] of rates.entries()) {
      const count = counts[i]
      pub.send({ cmd: 'latency', rate, count })
      const sent = await waitFor(pub, 'sent', 60000 + 2 * count * 1000 / rate)
      // A subscriber that fell behind is still receiving: wait until every one has everything
      // or none got more in the last second (at most 30 s), so late is not counted as lost.
      for (let last = -1, i = 0, t0 = Date.now(); i < 30 && Date.now() - t0 < 30000; ++i) {
        await sleep(1000)
        let total = 0
        for (const s of subs) {
          s.send({ cmd: 'count' })
          total += (await waitFor(s, 'count', 30000)).n // a busy subscriber answers late
        }
        if (total === count * subs.length || total === last) break
        last = total
      }
      const reps = []
      for (const s of subs) {
        s.send({ cmd: 'latency-report' })
        reps.push(await waitFor(s, 'latency-report', 30000))
      }
      latency.push({
        rate,
        sent: count,
        offered_per_s: sent.seconds > 0 ? count / sent.seconds : 0,
        fewest_samples: Math.min(...reps.map(r => r.samples)),
        p50_us: median(reps.map(r => r.p50_us)),
        p99_us: Math.max(...reps.map(r => r.p99_us)),
        p999_us: Math.max(...reps.map(r => r.p999_us)),
        delivered_per_s: median(reps.map(r => r.delivered_per_s))
      })
    }
    for (const s of subs) { s.send({ cmd: 'phase', phase: 'throughput' }); await waitFor(s, 'ok', 30000) }
    pub.send({ cmd: 'throughput' })
    const sentInfo = await waitFor(pub, 'sent', seconds * 1000 + 60000)
    // As above: until every subscriber got everything or nothing more came in a second.
    let msgsPerS = 0; let received = 0
    for (let last = -1, i = 0, t0 = Date.now(); i < 30 && Date.now() - t0 < 30000; ++i) {
      await sleep(1000)
      msgsPerS = 0; received = 0
      for (const s of subs) {
        s.send({ cmd: 'report' })
        const r = await waitFor(s, 'report', 30000)
        msgsPerS += r.msgs_per_s
        received += r.received
      }
      if (received === sentInfo.sent * subs.length || received === last) break
      last = received
    }
    console.log(JSON.stringify({ nodes, size, latency, published: sentInfo.sent, received, msgs_per_s: msgsPerS }))
    for (const k of kids) k.send({ cmd: 'quit' })
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
