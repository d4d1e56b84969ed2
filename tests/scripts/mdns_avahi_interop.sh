#!/usr/bin/env bash
# mDNS interop with avahi, both ways, on a private LAN of network namespaces:
#
#   ns A (10.77.0.1, vA) --- bridge (ns BR) --- ns B (10.77.0.2, vB)
#   avahi-daemon + private dbus                 tools/mdns_probe "OURS0001" (our MdnsDiscovery)
#   tools/mdns_probe "OURS0002", sharing UDP 5353 with avahi-daemon
#
# Checks: (1) both our nodes find avahi's static _meshslice._tcp service with the right port,
# TXT and SRV target, and each other; (2) avahi-browse resolves both our services; (3) tshark
# dissects every packet node B sent without a "Malformed" warning, and sees its goodbye (TTL 0);
# (4) avahi runs in ns A, never in the host's network namespace, and is gone when it is done.
#
# Every wait is for an event with a deadline: tshark's "Capturing on", avahi's "Server startup
# complete", our nodes' "announced" log line, avahi-browse's resolved lines, process exits.
#
# Nothing here touches a real interface: the veths are created directly inside the
# namespaces, avahi runs only in ns A with a private /run, and everything is removed on exit
# (namespaces of earlier runs that were killed outright are swept at the start).
# Usage: mdns_avahi_interop.sh [build-dir] [capture-dir]   (capture-dir keeps the pcap)
# Exit 77 = skipped (not root, no `ip netns`, a tool missing, mdns_probe not built).
set -uo pipefail

BUILD_DIR=$(cd "${1:-build}" 2>/dev/null && pwd) || BUILD_DIR=""
KEEP_DIR=${2:-}
PROBE=${BUILD_DIR:+$BUILD_DIR/tools/mdns_probe}

skip() { echo "SKIP mdns_avahi_interop: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (network namespaces)"
ip netns list >/dev/null 2>&1 || skip "no 'ip netns'"
for tool in avahi-daemon avahi-browse dbus-daemon tshark unshare timeout pgrep python3; do
  command -v "$tool" >/dev/null || skip "$tool not installed (scripts/deps.sh lan)"
done
[ -n "$PROBE" ] && [ -x "$PROBE" ] || skip "mdns_probe not built in '${1:-build}'"

# Namespaces left by an earlier run that was killed outright (SIGKILL runs no trap):
# msA-/msB-/msBR-<pid> whose <pid> no longer runs. Only our own prefixes, only dead owners.
sweep_stale() {
  local ns pid p
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^ms(A|B|BR)-[0-9]+$'); do
    pid=${ns#*-}
    [ "$pid" = "$$" ] && continue
    kill -0 "$pid" 2>/dev/null && continue
    echo "mdns_avahi_interop: removing stale namespace $ns of dead run $pid" >&2
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null || echo "mdns_avahi_interop: could not delete $ns" >&2
  done
}
sweep_stale

SUF=$$
NS_A=msA-$SUF
NS_B=msB-$SUF
NS_BR=msBR-$SUF
WORK=$(mktemp -d /tmp/mdns-interop.XXXXXX)
chmod 755 "$WORK"
FAILED=0

cleanup() {
  local left ns pid
  for ns in "$NS_A" "$NS_B" "$NS_BR"; do
    # Only processes inside namespaces this script created.
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$pid" 2>/dev/null; done
  done
  for _ in $(seq 20); do  # until they are gone, at most 2 s
    left=""
    for ns in "$NS_A" "$NS_B" "$NS_BR"; do left+=$(ip netns pids "$ns" 2>/dev/null); done
    [ -z "$left" ] && break
    sleep 0.1
  done
  for ns in "$NS_A" "$NS_B" "$NS_BR"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
  if [ -n "$KEEP_DIR" ]; then mkdir -p "$KEEP_DIR" && cp -r "$WORK"/. "$KEEP_DIR"/; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() { echo "FAIL: $*"; FAILED=1; }
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
# wait_for SECONDS WHAT CMD...: re-checks CMD every 0.1 s until it succeeds or the deadline passes.
wait_for() {
  local deadline=$((SECONDS + $1)) what=$2
  shift 2
  until "$@"; do
    if [ "$SECONDS" -ge "$deadline" ]; then echo "timed out waiting for $what"; return 1; fi
    sleep 0.1
  done
}
has_line() { grep -qE "$2" "$1" 2>/dev/null; }

# ---- the LAN ----
set -e
for ns in "$NS_A" "$NS_B" "$NS_BR"; do
  ip netns add "$ns"
  in_ns "$ns" sysctl -qw net.ipv6.conf.default.accept_dad=0
  in_ns "$ns" ip link set lo up
done
ip -n "$NS_BR" link add br0 type bridge mcast_snooping 0
ip -n "$NS_BR" link set br0 up
for side in A B; do
  ns_var=NS_$side
  ip link add "v$side" netns "${!ns_var}" type veth peer name "p$side" netns "$NS_BR"
  ip -n "$NS_BR" link set "p$side" master br0 up
done
ip -n "$NS_A" addr add 10.77.0.1/24 dev vA
ip -n "$NS_B" addr add 10.77.0.2/24 dev vB
ip -n "$NS_A" link set vA up
ip -n "$NS_B" link set vB up
set +e
link_local() { ip -n "$NS_A" -6 addr show dev vA scope link | grep -q inet6 && ip -n "$NS_B" -6 addr show dev vB scope link | grep -q inet6; }
wait_for 5 "IPv6 link-local addresses" link_local  # DAD is off, so this is quick

# ---- capture on the LAN, from ns A ----
# Background jobs run `ip netns exec` itself (it execs `timeout`), not the in_ns function: $! is
# then `timeout`, which relays SIGINT to its command (a background subshell would ignore it).
# -P -l: a summary line per packet once it is in the file, so the script can wait for the last
# packet it cares about (a marker on UDP 5399, sent after everything else) before stopping it.
ip netns exec "$NS_A" timeout 120 tshark -P -l -i vA -f "udp port 5353 or udp port 5399" \
  -w "$WORK/lan.pcapng" >"$WORK/tshark.log" 2>&1 &
TSHARK=$!
wait_for 15 "tshark to start capturing" has_line "$WORK/tshark.log" "Capturing on" || fail "tshark did not start"

# ---- avahi in ns A, with a private /run and its own system bus ----
mkdir -p "$WORK/services"
cat >"$WORK/avahi-daemon.conf" <<'CONF'
[server]
host-name=avahi-peer
domain-name=local
use-ipv4=yes
use-ipv6=yes
allow-interfaces=vA
enable-dbus=yes
ratelimit-interval-usec=1000000
ratelimit-burst=1000
[wide-area]
enable-wide-area=no
[publish]
publish-hinfo=no
publish-workstation=no
publish-aaaa-on-ipv4=yes
publish-a-on-ipv6=no
[reflector]
enable-reflector=no
CONF
cat >"$WORK/services/meshslice.service" <<'CONF'
<?xml version="1.0" standalone='no'?>
<!DOCTYPE service-group SYSTEM "avahi-service.dtd">
<service-group>
  <name>avahi-peer</name>
  <service>
    <type>_meshslice._tcp</type>
    <port>7455</port>
    <txt-record>v=1</txt-record>
    <txt-record>id=AVAHI000</txt-record>
    <txt-record>mesh=interop</txt-record>
    <txt-record>port=7455</txt-record>
  </service>
</service-group>
CONF
cat >"$WORK/dbus.conf" <<'CONF'
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=/run/dbus/system_bus_socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
CONF
cat >"$WORK/avahi-side.sh" <<'SIDE'
# Runs inside ns A in a private mount namespace: nothing mounted here is seen by the host.
# Problems go to $W/side.log (the main script fails on a non-empty one).
W=$1
wait_for() {  # wait_for SECONDS CMD...
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do [ "$SECONDS" -lt "$deadline" ] || return 1; sleep 0.1; done
}
mount -t tmpfs tmpfs /run
mkdir -p /run/dbus /run/avahi-daemon
mount --bind "$W/services" /etc/avahi/services
dbus-daemon --config-file="$W/dbus.conf" --nofork --nopidfile >"$W/dbus.log" 2>&1 &
DBUS=$!
wait_for 10 test -S /run/dbus/system_bus_socket || echo "no system bus socket" >>"$W/side.log"
avahi-daemon -f "$W/avahi-daemon.conf" --no-drop-root --no-chroot --no-rlimits \
  --no-proc-title >"$W/avahi.log" 2>&1 &
AVAHI=$!
echo "$AVAHI" >"$W/avahi.pid"
if wait_for 15 grep -q "Server startup complete" "$W/avahi.log"; then
  touch "$W/avahi.ready"
else
  echo "avahi-daemon did not start" >>"$W/side.log"
fi
# Browse once both our nodes say their records are live; stop when both are resolved.
if wait_for 30 grep -q "announced " "$W/oursB.err" && wait_for 30 grep -q "announced " "$W/oursA.err"; then
  avahi-browse -rp _meshslice._tcp >"$W/browse.txt" 2>"$W/browse.err" &
  BROWSE=$!
  # -p escapes the space and parentheses of our instance names, hence the loose match.
  if ! wait_for 20 grep -qE '^=;vA;IPv4;ours[^;]*OURS0001[^;]*;' "$W/browse.txt" ||
     ! wait_for 20 grep -qE '^=;vA;IPv4;oursA[^;]*OURS0002[^;]*;' "$W/browse.txt"; then
    echo "avahi-browse did not resolve both of our services" >>"$W/side.log"
  fi
  kill -TERM "$BROWSE" 2>/dev/null  # (SIGINT is ignored by background jobs of a script)
  wait "$BROWSE"
else
  echo "our nodes never logged 'announced'" >>"$W/side.log"
fi
touch "$W/browse.done"
# avahi keeps serving until the main script is done with our nodes (they must find it).
wait_for 60 test -e "$W/stop-avahi" || echo "never told to stop" >>"$W/side.log"
kill -TERM "$AVAHI" 2>/dev/null
wait "$AVAHI"
kill -TERM "$DBUS" 2>/dev/null
wait "$DBUS"
SIDE
ip netns exec "$NS_A" timeout 110 unshare -m --propagation private bash "$WORK/avahi-side.sh" "$WORK" &
AVAHI_SIDE=$!

# ---- our nodes: one in ns B, one in ns A beside avahi-daemon (both bound to UDP 5353) ----
ip netns exec "$NS_B" timeout 100 "$PROBE" -i vB --id OURS0001 --mesh interop --name ours \
  --service-port 7400 --seconds 90 --dump --record-dir "$WORK" --log info \
  >"$WORK/ours.txt" 2>"$WORK/oursB.err" &
OURS=$!
ip netns exec "$NS_A" timeout 100 "$PROBE" -i vA --id OURS0002 --mesh interop --name oursA \
  --service-port 7401 --seconds 90 --log info >"$WORK/oursA.txt" 2>"$WORK/oursA.err" &
OURS_A=$!

# avahi must be running in ns A, never in the host's network namespace.
apid=""
if wait_for 15 "avahi's pid file" test -s "$WORK/avahi.pid"; then
  apid=$(cat "$WORK/avahi.pid")
  wait_for 20 "avahi startup" test -e "$WORK/avahi.ready" || fail "avahi-daemon did not start: $(tail -3 "$WORK/avahi.log")"
  avahi_ns=$(readlink "/proc/$apid/ns/net")
  if [ -z "$avahi_ns" ]; then
    fail "avahi-daemon ($apid) is not running"
  elif [ "$avahi_ns" = "$(readlink /proc/self/ns/net)" ]; then
    fail "avahi-daemon runs in the host namespace"
  elif [ "$avahi_ns" != "$(in_ns "$NS_A" readlink /proc/self/ns/net)" ]; then
    fail "avahi-daemon ($apid) is not in $NS_A"
  fi
else
  fail "avahi-daemon wrote no pid file"
fi
found_all() {
  has_line "$WORK/ours.txt" '^found key=avahi-peer\._meshslice\._tcp\.local ' &&
    has_line "$WORK/ours.txt" '^found .* id=OURS0002 ' &&
    has_line "$WORK/oursA.txt" '^found key=avahi-peer\._meshslice\._tcp\.local ' &&
    has_line "$WORK/oursA.txt" '^found .* id=OURS0001 '
}
wait_for 40 "our nodes to find avahi's service and each other" found_all
wait_for 60 "avahi-browse" test -e "$WORK/browse.done"
# Legacy queries (RFC 6762 §6.7: from a port other than 5353, so answered by unicast to that
# port) for node B's records from ns A, for a record it has (A: the reply carries AAAA and
# NSEC additionals) and for a type its instance lacks (A: an NSEC negative answer, §6.1);
# tshark checks below that both replies dissect cleanly. Sent to the mDNS group on vA, not to
# 10.77.0.2:5353: in ns B the recorder shares the port with the node (SO_REUSEPORT), and the
# kernel hands a unicast datagram to one socket of the group by a hash of its source, so about
# every other source port would reach only the recorder. Replies from anyone but node B (avahi,
# node A) are skipped.
cat >"$WORK/legacy_query.py" <<'PY'
import socket, struct, sys, time
def query(qid, name, qtype):
    wire = b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
    return struct.pack(">6H", qid, 0, 1, 0, 0, 0) + wire + struct.pack(">HH", qtype, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("10.77.0.1"))
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
for qid, name in enumerate(sys.argv[1:], start=0x4242):
    s.sendto(query(qid, name, 1), ("224.0.0.251", 5353))
    deadline = time.monotonic() + 5
    while True:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        data, src = s.recvfrom(9000)  # raises TimeoutError past the deadline
        if src[0] == "10.77.0.2" and len(data) >= 12 and struct.unpack(">H", data[:2])[0] == qid:
            break
    an, ar = struct.unpack(">H", data[6:8])[0], struct.unpack(">H", data[10:12])[0]
    print(f"legacy reply for {name}: {len(data)} bytes, {an} answer(s), {ar} additional(s)")
PY
in_ns "$NS_A" timeout 20 python3 "$WORK/legacy_query.py" meshslice-ours0001.local \
  "ours (OURS0001)._meshslice._tcp.local" >"$WORK/legacy.txt" 2>&1 ||
  fail "legacy queries for node B's records: $(cat "$WORK/legacy.txt")"
# Goodbyes: both nodes stop on SIGINT, sending TTL 0 for their records.
kill -INT "$OURS" "$OURS_A" 2>/dev/null
wait "$OURS" || fail "mdns_probe (ns B) exited with an error: $(cat "$WORK/oursB.err")"
wait "$OURS_A" || fail "mdns_probe (ns A, beside avahi) exited with an error: $(cat "$WORK/oursA.err")"
touch "$WORK/stop-avahi"
wait "$AVAHI_SIDE"
[ -s "$WORK/side.log" ] && fail "avahi side: $(cat "$WORK/side.log")"
# After avahi exited: no avahi-daemon of this run is left, in the host namespace or anywhere.
if [ -n "$apid" ] && kill -0 "$apid" 2>/dev/null; then fail "avahi-daemon ($apid) outlived its run"; fi
for pid in $(pgrep -f "avahi-daemon -f $WORK/avahi-daemon.conf"); do
  fail "avahi-daemon $pid still runs (netns $(readlink "/proc/$pid/ns/net"))"
done
# Close the capture once everything before the marker is in the file, then read it.
in_ns "$NS_B" bash -c 'echo -n capture-marker >/dev/udp/10.77.0.1/5399' ||
  fail "could not send the capture marker"
wait_for 15 "the capture to reach the marker" has_line "$WORK/tshark.log" ' → 5399 ' ||
  fail "the capture never reached the marker: $(tail -3 "$WORK/tshark.log")"
kill -INT "$TSHARK" 2>/dev/null
wait "$TSHARK"

# ---- checks ----
echo "--- our node in ns B saw:"; grep -vE '^(rr|q) ' "$WORK/ours.txt"
echo "--- our node in ns A (beside avahi) saw:"; cat "$WORK/oursA.txt"
echo "--- avahi-browse saw:"; cat "$WORK/browse.txt" 2>/dev/null

# (1) both nodes found avahi's service, resolved to its IPv4 address and SRV port, with its TXT
# id/v; and each other, across the bridge and from beside avahi-daemon.
for f in ours.txt oursA.txt; do
  grep -q '^found key=avahi-peer._meshslice._tcp.local id=AVAHI000 v=1 endpoints=10.77.0.1:7455' \
    "$WORK/$f" || fail "our node ($f) did not find avahi's service"
done
grep -q '^found key=oursA (OURS0002)._meshslice._tcp.local id=OURS0002 v=1 endpoints=10.77.0.1:7401' \
  "$WORK/ours.txt" || fail "node B did not find node A (beside avahi)"
grep -q '^found key=ours (OURS0001)._meshslice._tcp.local id=OURS0001 v=1 endpoints=10.77.0.2:7400' \
  "$WORK/oursA.txt" || fail "node A (beside avahi) did not find node B"
grep -q ' avahi-peer._meshslice._tcp.local ttl=[0-9]* flush SRV 0 0 7455 avahi-peer.local ' \
  "$WORK/ours.txt" || fail "no SRV 0 0 7455 avahi-peer.local from avahi"
grep -q 'TXT .*"mesh=interop"' "$WORK/ours.txt" || fail "no TXT mesh=interop from avahi"

# (2) avahi resolved both of ours: host name, address, port and TXT.
check_resolved() {  # label id host address port
  local line
  line=$(grep -E "^=;vA;IPv4;$1[^;]*$2[^;]*;_meshslice._tcp;local;" "$WORK/browse.txt" 2>/dev/null | head -1)
  if [ -z "$line" ]; then
    fail "avahi-browse did not resolve $2 ($(cat "$WORK/browse.err" 2>/dev/null))"
    return
  fi
  echo "$line" | grep -q ";$3;$4;$5;" || fail "bad resolution of $2: $line"
  echo "$line" | grep -q '"mesh=interop"' || fail "TXT mesh missing: $line"
  echo "$line" | grep -q "\"id=$2\"" || fail "TXT id missing: $line"
}
check_resolved 'ours' OURS0001 meshslice-ours0001.local 10.77.0.2 7400
check_resolved 'oursA' OURS0002 meshslice-ours0002.local 10.77.0.1 7401

# (3) every packet from node B dissects cleanly, and its goodbye went out.
ours_filter='(ip.src==10.77.0.2 || ipv6.src_host=="'$(ip -n "$NS_B" -6 addr show dev vB scope link 2>/dev/null | awk '/inet6/{sub("/.*","",$2);print $2;exit}')'")'
# Repeated probes and continuous queries are meant to repeat: tshark's retransmission note on
# them is expected; anything else at warning level or above is not.
bad_filter='(_ws.malformed || (_ws.expert.severity >= warning && !dns.retransmission))'
if [ -s "$WORK/lan.pcapng" ]; then
  n_ours=$(tshark -r "$WORK/lan.pcapng" -Y "$ours_filter && mdns" 2>/dev/null | wc -l)
  n_bad=$(tshark -r "$WORK/lan.pcapng" -Y "$ours_filter && $bad_filter" 2>/dev/null | wc -l)
  n_bye=$(tshark -r "$WORK/lan.pcapng" -Y "ip.src==10.77.0.2 && dns.flags.response==1 && dns.resp.ttl==0" 2>/dev/null | wc -l)
  n_nsec=$(tshark -r "$WORK/lan.pcapng" -Y "$ours_filter && dns.resp.type==47" 2>/dev/null | wc -l)
  cat "$WORK/legacy.txt" 2>/dev/null
  echo "--- tshark: $n_ours packets from us, $n_bad malformed/warning, $n_bye goodbye, $n_nsec with NSEC"
  [ "$n_ours" -gt 0 ] || fail "tshark saw no mDNS packet from us"
  [ "$n_bad" -eq 0 ] || { fail "tshark flags our packets:"; tshark -r "$WORK/lan.pcapng" -Y "$ours_filter && $bad_filter" -V 2>/dev/null | grep -iE "malformed|expert" | head; }
  [ "$n_bye" -gt 0 ] || fail "no goodbye (TTL 0) from us"
  [ "$n_nsec" -ge 2 ] || fail "expected our two legacy replies with NSEC records, saw $n_nsec"
else
  fail "no capture"
fi

if [ "$FAILED" = 0 ]; then echo "PASS mdns_avahi_interop"; exit 0; fi
echo "--- avahi log:"; tail -20 "$WORK/avahi.log" 2>/dev/null
exit 1
