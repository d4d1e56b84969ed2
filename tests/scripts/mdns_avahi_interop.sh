#!/usr/bin/env bash
# mDNS interop with avahi, both ways, on a private LAN of network namespaces:
#
#   ns A (10.77.0.1, vA) --- bridge (ns BR) --- ns B (10.77.0.2, vB)
#   avahi-daemon + private dbus                 tools/mdns_probe (our MdnsDiscovery)
#
# Checks: (1) our node finds avahi's static _meshslice._tcp service with the right port, TXT
# and SRV target; (2) avahi-browse resolves our service; (3) tshark dissects every packet we
# sent without a "Malformed" warning, and sees our goodbye (TTL 0).
#
# Nothing here touches a real interface: the veths are created directly inside the
# namespaces, avahi runs only in ns A with a private /run, and everything is removed on exit.
# Usage: mdns_avahi_interop.sh [build-dir] [capture-dir]   (capture-dir keeps the pcap)
# Exit 77 = skipped (not root, no `ip netns`, a tool missing, mdns_probe not built).
set -uo pipefail

BUILD_DIR=$(cd "${1:-build}" 2>/dev/null && pwd) || BUILD_DIR=""
KEEP_DIR=${2:-}
PROBE=${BUILD_DIR:+$BUILD_DIR/tools/mdns_probe}

skip() { echo "SKIP mdns_avahi_interop: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (network namespaces)"
ip netns list >/dev/null 2>&1 || skip "no 'ip netns'"
for tool in avahi-daemon avahi-browse dbus-daemon tshark unshare timeout; do
  command -v "$tool" >/dev/null || skip "$tool not installed (scripts/deps.sh lan)"
done
[ -n "$PROBE" ] && [ -x "$PROBE" ] || skip "mdns_probe not built in '${1:-build}'"

SUF=$$
NS_A=msA-$SUF
NS_B=msB-$SUF
NS_BR=msBR-$SUF
WORK=$(mktemp -d /tmp/mdns-interop.XXXXXX)
chmod 755 "$WORK"
FAILED=0

cleanup() {
  for ns in "$NS_A" "$NS_B" "$NS_BR"; do
    # Only processes inside namespaces this script created.
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$pid" 2>/dev/null; done
  done
  sleep 0.5
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
for _ in $(seq 50); do  # IPv6 link-local addresses (DAD is off, so this is quick)
  ip -n "$NS_A" -6 addr show dev vA scope link | grep -q inet6 &&
    ip -n "$NS_B" -6 addr show dev vB scope link | grep -q inet6 && break
  sleep 0.1
done

# ---- capture on the LAN, from ns A ----
in_ns "$NS_A" timeout 60 tshark -q -i vA -f "udp port 5353" -w "$WORK/lan.pcapng" \
  >"$WORK/tshark.log" 2>&1 &
for _ in $(seq 100); do grep -q "Capturing on" "$WORK/tshark.log" 2>/dev/null && break; sleep 0.1; done

# ---- avahi in ns A, with a private /run and its own system bus ----
mkdir -p "$WORK/services"
cat >"$WORK/avahi-daemon.conf" <<'EOF'
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
EOF
cat >"$WORK/services/meshslice.service" <<'EOF'
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
EOF
cat >"$WORK/dbus.conf" <<'EOF'
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
EOF
cat >"$WORK/avahi-side.sh" <<'EOF'
# Runs inside ns A in a private mount namespace: nothing mounted here is seen by the host.
W=$1
mount -t tmpfs tmpfs /run
mkdir -p /run/dbus /run/avahi-daemon
mount --bind "$W/services" /etc/avahi/services
dbus-daemon --config-file="$W/dbus.conf" --nofork --nopidfile >"$W/dbus.log" 2>&1 &
for _ in $(seq 50); do [ -S /run/dbus/system_bus_socket ] && break; sleep 0.1; done
avahi-daemon -f "$W/avahi-daemon.conf" --no-drop-root --no-chroot --no-rlimits \
  --no-proc-title >"$W/avahi.log" 2>&1 &
echo $! >"$W/avahi.pid"
for _ in $(seq 100); do grep -q "Server startup complete" "$W/avahi.log" && break; sleep 0.1; done
sleep 2  # let our node finish probing and announcing
for _ in $(seq 10); do
  # -p escapes the space and parentheses of our instance name, hence the loose match.
  timeout 10 avahi-browse -rpt _meshslice._tcp >"$W/browse.try" 2>"$W/browse.err"
  cp "$W/browse.try" "$W/browse.txt"
  grep -qE '^=;vA;IPv4;ours[^;]*OURS0001[^;]*;' "$W/browse.txt" && break
  sleep 1
done
EOF
in_ns "$NS_A" timeout 60 unshare -m --propagation private bash "$WORK/avahi-side.sh" "$WORK" &
AVAHI_SIDE=$!

# ---- our node in ns B ----
in_ns "$NS_B" timeout 40 "$PROBE" -i vB --id OURS0001 --mesh interop --name ours \
  --service-port 7400 --seconds 15 --dump --record-dir "$WORK" >"$WORK/ours.txt" 2>"$WORK/ours.err" &
OURS=$!

sleep 1
# avahi must be running in ns A, never in the host's network namespace.
if [ -s "$WORK/avahi.pid" ]; then
  apid=$(cat "$WORK/avahi.pid")
  [ "$(readlink /proc/"$apid"/ns/net)" = "$(readlink /proc/self/ns/net)" ] &&
    fail "avahi-daemon runs in the host namespace"
fi
wait "$OURS" || fail "mdns_probe exited with an error: $(cat "$WORK/ours.err")"
wait "$AVAHI_SIDE"
sleep 1
for pid in $(ip netns pids "$NS_A"); do kill -INT "$pid" 2>/dev/null; done  # flush the capture
sleep 1

# ---- checks ----
echo "--- our node saw:"; grep -v '^rr' "$WORK/ours.txt"
echo "--- avahi-browse saw:"; cat "$WORK/browse.txt" 2>/dev/null

# (1) we found avahi's service, resolved to its IPv4 address and SRV port, with its TXT id/v.
grep -q '^found key=avahi-peer._meshslice._tcp.local id=AVAHI000 v=1 endpoints=10.77.0.1:7455' \
  "$WORK/ours.txt" || fail "our node did not find avahi's service"
grep -q ' avahi-peer._meshslice._tcp.local ttl=[0-9]* flush SRV 0 0 7455 avahi-peer.local ' \
  "$WORK/ours.txt" || fail "no SRV 0 0 7455 avahi-peer.local from avahi"
grep -q 'TXT .*"mesh=interop"' "$WORK/ours.txt" || fail "no TXT mesh=interop from avahi"

# (2) avahi resolved ours: host name, address, port and TXT.
line=$(grep -E '^=;vA;IPv4;ours[^;]*OURS0001[^;]*;_meshslice._tcp;local;' "$WORK/browse.txt" 2>/dev/null | head -1)
if [ -z "$line" ]; then
  fail "avahi-browse did not resolve our service ($(cat "$WORK/browse.err" 2>/dev/null))"
else
  echo "$line" | grep -q ';meshslice-ours0001.local;10.77.0.2;7400;' || fail "bad resolution: $line"
  echo "$line" | grep -q '"mesh=interop"' || fail "TXT mesh missing: $line"
  echo "$line" | grep -q '"id=OURS0001"' || fail "TXT id missing: $line"
fi

# (3) every packet from us dissects cleanly, and our goodbye went out.
ours_filter='(ip.src==10.77.0.2 || ipv6.src_host=="'$(ip -n "$NS_B" -6 addr show dev vB scope link 2>/dev/null | awk '/inet6/{sub("/.*","",$2);print $2;exit}')'")'
# Repeated probes and continuous queries are meant to repeat: tshark's retransmission note on
# them is expected; anything else at warning level or above is not.
bad_filter='(_ws.malformed || (_ws.expert.severity >= warning && !dns.retransmission))'
if [ -s "$WORK/lan.pcapng" ]; then
  n_ours=$(tshark -r "$WORK/lan.pcapng" -Y "$ours_filter && mdns" 2>/dev/null | wc -l)
  n_bad=$(tshark -r "$WORK/lan.pcapng" -Y "$ours_filter && $bad_filter" 2>/dev/null | wc -l)
  n_bye=$(tshark -r "$WORK/lan.pcapng" -Y "ip.src==10.77.0.2 && dns.flags.response==1 && dns.resp.ttl==0" 2>/dev/null | wc -l)
  echo "--- tshark: $n_ours packets from us, $n_bad malformed/warning, $n_bye goodbye"
  [ "$n_ours" -gt 0 ] || fail "tshark saw no mDNS packet from us"
  [ "$n_bad" -eq 0 ] || { fail "tshark flags our packets:"; tshark -r "$WORK/lan.pcapng" -Y "$ours_filter && $bad_filter" -V 2>/dev/null | grep -iE "malformed|expert" | head; }
  [ "$n_bye" -gt 0 ] || fail "no goodbye (TTL 0) from us"
else
  fail "no capture"
fi

if [ "$FAILED" = 0 ]; then echo "PASS mdns_avahi_interop"; exit 0; fi
echo "--- avahi log:"; tail -20 "$WORK/avahi.log" 2>/dev/null
exit 1
