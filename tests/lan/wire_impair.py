#!/usr/bin/env python3
"""wire_impair.py: a userspace stand-in for sch_netem, for kernels built without it.

Bridges two interfaces of one network namespace with raw AF_PACKET sockets and forwards every
Ethernet frame from each to the other, impairing each direction independently with the same
netem-like spec:

  loss P%         drop P % of frames
  delay D [J]     hold each frame D +- J (uniform, drawn per frame, clamped at 0); frames whose
                  delays differ overtake each other, as with netem's time-ordered queue
  duplicate P%    send P % of frames twice (the copy gets its own delay)
  reorder P%      send P % of frames at once, ahead of the delayed ones (netem's reorder; needs
                  a delay to have any effect)
  limit N         at most N frames held per direction (default 1000); more are dropped

As in netem, a frame that is both duplicated and lost is sent once. Correlations, distributions
and the other netem words are refused (exit 2): a test must not believe it got what it asked for.

The sockets use PACKET_VNET_HDR, so checksum-offloaded and GSO frames (veth defaults) are
forwarded with their offload metadata and arrive intact; lan.sh also turns TSO/GSO off on the
links it impairs, so that the spec applies per wire-sized frame. Frames this tool sent itself
(PACKET_OUTGOING) are never read back.

Runs until SIGTERM/SIGINT or --max-seconds. Prints "ready" once both sockets are bound, a stats
line on SIGUSR1, and a last stats line on exit (stderr): per direction, frames read (rx) and
sent (tx), lost, duplicated, sent at once (immediate), sent behind a later arrival (reordered),
dropped over the limit (overflow), socket errors, and the largest frame seen (max_frame, bytes
from the Ethernet header on: above the MTU + 14 means offloaded super-frames crossed).
Python 3 standard library only.

  wire_impair.py --a p2 --b r2 --spec "loss 20% delay 50ms 50ms duplicate 5% reorder 10%"
  wire_impair.py --check "delay 10ms"      # validate a spec, print its parsed form, exit 0/2
"""
import argparse
import errno
import heapq
import random
import select
import signal
import socket
import sys
import time

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_OUTGOING = 4
PACKET_VNET_HDR = 15
PACKET_IGNORE_OUTGOING = 23
SO_RCVBUFFORCE = 33
SO_SNDBUFFORCE = 32
VNET_HDR_LEN = 10
MAX_FRAME = 262144  # a GSO super-frame with its vnet header fits
BATCH = 256  # frames read from one socket per wake-up, so due frames are not starved


class SpecError(ValueError):
    pass


def _percent(word):
    if not word.endswith("%"):
        raise SpecError(f"'{word}': percentages need a '%'")
    try:
        v = float(word[:-1])
    except ValueError:
        raise SpecError(f"'{word}' is not a percentage") from None
    if not 0 <= v <= 100:
        raise SpecError(f"'{word}' is not within 0..100%")
    return v / 100.0


_UNITS = (("usec", 1e-6), ("us", 1e-6), ("msec", 1e-3), ("ms", 1e-3), ("secs", 1.0), ("sec", 1.0),
          ("s", 1.0))


def _seconds(word):
    for unit, scale in _UNITS:
        if word.endswith(unit):
            try:
                v = float(word[: -len(unit)])
            except ValueError:
                break
            if not 0 <= v * scale <= 60:
                raise SpecError(f"'{word}' is not within 0..60 s")
            return v * scale
    raise SpecError(f"'{word}' is not a time with a unit (us, ms, s)")


def parse_spec(text):
    """netem words -> dict; raises SpecError on anything this tool cannot emulate faithfully."""
    spec = {"loss": 0.0, "delay": 0.0, "jitter": 0.0, "duplicate": 0.0, "reorder": 0.0, "limit": 1000}
    words = text.split()
    i = 0
    seen = set()
    while i < len(words):
        w = words[i]
        if w in seen:
            raise SpecError(f"'{w}' given twice")
        seen.add(w)
        nxt = words[i + 1] if i + 1 < len(words) else None
        if nxt is None:
            raise SpecError(f"'{w}' needs a value")
        if w == "loss":
            if nxt == "random":  # netem's explicit form of the default loss model
                i += 1
                nxt = words[i + 1] if i + 1 < len(words) else "?"
            spec["loss"] = _percent(nxt)
            i += 2
        elif w in ("duplicate", "reorder"):
            spec[w] = _percent(nxt)
            i += 2
        elif w == "delay":
            spec["delay"] = _seconds(nxt)
            i += 2
            if i < len(words) and words[i][:1].isdigit():
                spec["jitter"] = _seconds(words[i])
                i += 1
        elif w == "limit":
            if not nxt.isdigit() or not 1 <= int(nxt) <= 100000:
                raise SpecError(f"limit '{nxt}' is not 1..100000")
            spec["limit"] = int(nxt)
            i += 2
        else:
            raise SpecError(f"'{w}' is not supported (loss, delay, duplicate, reorder, limit)")
        if i < len(words) and words[i].endswith("%") and words[i][:1].isdigit():
            raise SpecError(f"correlation '{words[i]}' after '{w}' is not supported")
    return spec


def describe(spec):
    parts = []
    if spec["loss"]:
        parts.append(f"loss {spec['loss'] * 100:g}%")
    if spec["delay"] or spec["jitter"]:
        d = f"delay {spec['delay'] * 1e3:g}ms"
        if spec["jitter"]:
            d += f" {spec['jitter'] * 1e3:g}ms"
        parts.append(d)
    if spec["duplicate"]:
        parts.append(f"duplicate {spec['duplicate'] * 100:g}%")
    if spec["reorder"]:
        parts.append(f"reorder {spec['reorder'] * 100:g}%")
    parts.append(f"limit {spec['limit']}")
    return " ".join(parts)


def open_port(ifname):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
    try:
        s.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
    except OSError:
        pass  # older kernels: outgoing frames are also filtered by pkttype below
    for force, plain, size in ((SO_RCVBUFFORCE, socket.SO_RCVBUF, 8 << 20),
                               (SO_SNDBUFFORCE, socket.SO_SNDBUF, 4 << 20)):
        try:
            s.setsockopt(socket.SOL_SOCKET, force, size)
        except OSError:
            s.setsockopt(socket.SOL_SOCKET, plain, size)
    s.bind((ifname, ETH_P_ALL))
    s.setblocking(False)
    return s


class Direction:
    FIELDS = ("rx", "tx", "lost", "duplicated", "immediate", "reordered", "overflow", "rx_errors",
              "tx_errors", "max_frame")

    def __init__(self, name, rx, tx):
        self.name, self.rx, self.tx = name, rx, tx
        self.held = 0
        self.next_in = 0  # arrival sequence of the next frame read
        self.last_out = -1  # highest arrival sequence sent so far
        self.stats = dict.fromkeys(self.FIELDS, 0)

    def line(self):
        return f"{self.name}: " + " ".join(f"{k}={v}" for k, v in self.stats.items())


class Impairer:
    def __init__(self, a, b, spec, rng, clock=time.monotonic):
        self.spec, self.rng, self.clock = spec, rng, clock
        sa, sb = open_port(a), open_port(b)
        self.dirs = [Direction(f"{a}>{b}", sa, sb), Direction(f"{b}>{a}", sb, sa)]
        self.by_fd = {d.rx.fileno(): d for d in self.dirs}
        self.heap = []  # (due, tiebreak, direction, arrival sequence, frame)
        self.tie = 0

    def schedule(self, d, frame, now):
        s, rng = self.spec, self.rng
        seq = d.next_in
        d.next_in += 1
        copies = 1
        if s["duplicate"] and rng.random() < s["duplicate"]:
            copies += 1
            d.stats["duplicated"] += 1
        if s["loss"] and rng.random() < s["loss"]:
            copies -= 1
            d.stats["lost"] += 1
        for _ in range(copies):
            if d.held >= s["limit"]:
                d.stats["overflow"] += 1
                continue
            if s["reorder"] and rng.random() < s["reorder"]:
                delay = 0.0
                d.stats["immediate"] += 1
            else:
                delay = max(0.0, s["delay"] + rng.uniform(-s["jitter"], s["jitter"]))
            self.tie += 1
            heapq.heappush(self.heap, (now + delay, self.tie, d, seq, frame))
            d.held += 1

    def read(self, d):
        for _ in range(BATCH):
            try:
                frame, addr = d.rx.recvfrom(MAX_FRAME)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:  # ENETDOWN after the port went down; the socket keeps working
                d.stats["rx_errors"] += 1
                if e.errno not in (errno.ENETDOWN, errno.ENXIO, errno.ENODEV):
                    raise
                return
            if addr[2] == PACKET_OUTGOING or len(frame) <= VNET_HDR_LEN:
                continue
            d.stats["rx"] += 1
            if len(frame) - VNET_HDR_LEN > d.stats["max_frame"]:
                d.stats["max_frame"] = len(frame) - VNET_HDR_LEN
            self.schedule(d, frame, self.clock())

    def send_due(self, now):
        heap = self.heap
        while heap and heap[0][0] <= now + 0.0002:
            _, _, d, seq, frame = heapq.heappop(heap)
            d.held -= 1
            try:
                d.tx.send(frame)
            except OSError:  # port down, buffer full: the frame is lost, as on a wire
                d.stats["tx_errors"] += 1
                continue
            d.stats["tx"] += 1
            if seq < d.last_out:
                d.stats["reordered"] += 1
            else:
                d.last_out = seq

    def stats_line(self):
        return "; ".join(d.line() for d in self.dirs) + f"; held={len(self.heap)}"

    def run(self, deadline, stop, log):
        poller = select.poll()
        for d in self.dirs:
            poller.register(d.rx.fileno(), select.POLLIN)
        while not stop["now"]:
            now = self.clock()
            if now >= deadline:
                log("max-seconds reached")
                break
            if stop["stats"]:
                stop["stats"] = False
                log("stats " + self.stats_line())
            wait = 0.2
            if self.heap:
                wait = min(wait, max(0.0, self.heap[0][0] - now))
            for fd, ev in poller.poll(wait * 1000.0):
                if ev & (select.POLLERR | select.POLLIN):
                    self.read(self.by_fd[fd])
            self.send_due(self.clock())


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--a", help="first interface")
    p.add_argument("--b", help="second interface")
    p.add_argument("--spec", default="", help="netem words, applied to each direction")
    p.add_argument("--check", metavar="SPEC", help="only validate SPEC: exit 0 (prints it) or 2")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--max-seconds", type=float, default=3600.0, help="exit after this long (bound)")
    p.add_argument("--tag", default="", help="a label for log lines (and for finding the process)")
    args = p.parse_args()
    try:
        spec = parse_spec(args.check if args.check is not None else args.spec)
    except SpecError as e:
        print(f"wire_impair: unsupported spec: {e}", file=sys.stderr)
        return 2
    if args.check is not None:
        print(describe(spec))
        return 0
    if not args.a or not args.b:
        p.error("--a and --b are required")
    prefix = f"wire_impair[{args.tag or args.a + '-' + args.b}]"

    def log(msg):
        print(f"{prefix}: {msg}", file=sys.stderr, flush=True)

    stop = {"now": False, "stats": False}

    def on_term(_sig, _frame):
        stop["now"] = True

    def on_usr1(_sig, _frame):
        stop["stats"] = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    signal.signal(signal.SIGUSR1, on_usr1)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 31)
    imp = Impairer(args.a, args.b, spec, random.Random(seed))
    log(f"ready {args.a}<->{args.b} spec '{describe(spec)}' seed {seed}")
    try:
        imp.run(time.monotonic() + args.max_seconds, stop, log)
    finally:
        log("final " + imp.stats_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
