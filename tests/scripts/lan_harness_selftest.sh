#!/usr/bin/env bash
# Self-test of the LAN harness tests/lan/lan.sh: builds a 3-node LAN, pings across it, applies
# netem (tc netem, or on kernels without sch_netem the userspace impairer wire_impair.py, whose
# loss, delay, jitter, duplication and reordering it measures with ping and a TCP transfer),
# unplugs nodes loudly and silently, and checks that the namespaces (and impairers) are removed
# after a normal exit, a failure, SIGTERM, and (by the sweeper) SIGKILL. Traffic runs only
# between namespaces this test creates.
# Usage: lan_harness_selftest.sh [build-dir]   (the build dir is not used)
# Exit 77 = skipped (not root, no `ip netns`, no ping).
# shellcheck disable=SC2015  # `check && ok ... || fail ...`: ok only echoes, it cannot fail
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
LAN_SH=$HERE/../lan/lan.sh
# shellcheck source=../lan/lan.sh
source "$LAN_SH"
lan_require
command -v ping >/dev/null || lan_skip "no ping (scripts/deps.sh lan installs iputils-ping)"

FAILED=0
fail() { echo "FAIL: $*"; FAILED=1; }
ok() { echo "ok: $*"; }
# ping from node $1 to address $2, one packet, one second.
reach() { lan_exec "$1" ping -n -c1 -W1 "$2" >/dev/null 2>&1; }
# Up to $3 tries: for a link that was just plugged back in.
reach_soon() { local _; for _ in $(seq "${3:-5}"); do reach "$1" "$2" && return 0; done; return 1; }
lan_runs() { timeout 10 ip netns list | awk '{print $1}' | grep -cE "^ms-$1-(hub|[0-9]+)\$"; }
host_links() { ip -o link show | awk -F': ' '{print $2}' | sort; }

host_before=$(host_links)
TMP=$(mktemp -d /tmp/lan-selftest.XXXXXX)
trap 'rm -rf "$TMP"' EXIT  # set before lan_up, which chains its cleanup in front of it
lan_up 3 --ipv6 || { echo "FAIL: lan_up"; exit 1; }
run=$_LAN_RUN
[ "$(lan_runs "$run")" = 4 ] && ok "3 nodes + hub namespaces exist" || fail "expected 4 namespaces of run $run"

# ---- reachability, IPv4 and IPv6 ----
for pair in "1 2" "2 3" "3 1"; do
  set -- $pair
  reach "$1" "$(lan_ip "$2")" && ok "node $1 pings node $2 (IPv4)" || fail "node $1 cannot ping node $2"
done
reach 1 "$(lan_ip6 3)" && ok "node 1 pings node 3 (IPv6 ULA)" || fail "node 1 cannot ping node 3 over IPv6"
# The hub is a switch with no address; the host is not on the LAN.
[ "$(host_links)" = "$host_before" ] && ok "host interfaces unchanged" || fail "host interfaces changed"
lan_exec 1 ip -o addr show dev eth0 | grep "$(lan_ip 1)/24" >/dev/null || fail "node 1 has no $(lan_ip 1)/24"

# ---- netem: the kernel's, or the userspace impairer (tests/lan/wire_impair.py) ----
backend=$(lan_netem_backend)
echo "note: lan_netem backend: $backend"
# "min avg max mdev" of a ping's summary line, from $1.
rtt_of() { sed -n 's|.*= \([0-9.]*\)/\([0-9.]*\)/\([0-9.]*\)/\([0-9.]*\) ms.*|\1 \2 \3 \4|p' "$1"; }
# true when awk expression $2 holds for the numbers in $1 (named a b c d)
holds() { awk -v s="$1" "BEGIN { split(s, v, \" \"); a = v[1]; b = v[2]; c = v[3]; d = v[4]; exit !($2) }"; }
if [ "$backend" = nft ]; then
  echo "note: no sch_netem and no python3: delay/duplicate/reorder untested, loss via nftables"
  out=$(lan_netem 2 "loss 20% delay 50ms" 2>&1)
  [ $? = 2 ] && ok "lan_netem refuses what it cannot emulate" || fail "lan_netem without netem: $out"
else
  # A fixed delay, both ways: every round trip takes at least 2 x 50 ms, none much more.
  lan_netem 2 "delay 50ms" || fail "lan_netem delay 50ms"
  lan_exec 1 ping -n -c 5 -i 0.05 -w 10 "$(lan_ip 2)" >"$TMP/ping.delay" 2>&1
  r=$(rtt_of "$TMP/ping.delay")
  holds "$r" 'a >= 99 && c < 160' && ok "delay 50ms each way: rtt min/avg/max/mdev $r ms" ||
    fail "delay 50ms not seen: rtt '$r' ($(tail -n 2 "$TMP/ping.delay" | tr '\n' ' '))"

  # The full spec, 200 pings 10 ms apart. Per direction 20 % loss (a round trip survives
  # ~0.8^2: expect ~130 of 200 replies), 0-100 ms delay (uniform around 50 ms, 10 % of frames
  # at once), so replies come back out of order; 5 % duplicates each way (~10 DUP! expected).
  spec="loss 20% delay 50ms 50ms duplicate 5% reorder 10%"
  lan_netem 2 "$spec" || fail "lan_netem with the full spec"
  # (no -w: with lost replies ping would wait out the whole deadline; lan_exec bounds it)
  LAN_EXEC_TIMEOUT=40 lan_exec 1 ping -n -c 200 -i 0.01 "$(lan_ip 2)" >"$TMP/ping.full" 2>&1
  got=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$TMP/ping.full")
  dups=$(grep -c 'DUP!' "$TMP/ping.full")
  r=$(rtt_of "$TMP/ping.full")
  # Reordering: replies printed after one with a higher icmp_seq (duplicates left out).
  late=$(grep -v 'DUP!' "$TMP/ping.full" | sed -n 's/.*icmp_seq=\([0-9]*\).*/\1/p' |
    awk '$1 < max { n++ } $1 > max { max = $1 } END { print n + 0 }')
  echo "  '$spec': ${got:-?}/200 replies, $dups DUP!, $late out of order, rtt min/avg/max/mdev $r ms"
  [ -n "$got" ] && [ "$got" -ge 90 ] && [ "$got" -le 170 ] && ok "loss: $got of 200 replies (expected ~130)" ||
    fail "loss out of range: ${got:-?} of 200 replies"
  [ "$dups" -ge 1 ] && [ "$dups" -le 40 ] && ok "duplication: $dups DUP! replies" ||
    fail "duplication out of range: $dups DUP! replies"
  [ "$late" -ge 5 ] && ok "reordering: $late replies behind a later one" || fail "no reordering seen ($late)"
  holds "$r" 'b >= 50 && b <= 140 && c >= 120 && c < 400 && d >= 20' &&
    ok "jitter: rtt avg $(echo "$r" | cut -d' ' -f2) ms, max $(echo "$r" | cut -d' ' -f3) ms, mdev $(echo "$r" | cut -d' ' -f4) ms" ||
    fail "rtt does not fit 2 x (50 +- 50 ms): '$r'"
fi
if [ "$backend" = impairer ]; then
  hub=$(lan_ns hub)
  stats=$(lan_impair_stats 2)
  echo "  $stats"
  echo "$stats" | grep -q 'lost=[1-9].*duplicated=[1-9].*reordered=[1-9]' && ok "impairer counters move" ||
    fail "impairer counters: '$stats'"
  out=$(lan_netem 2 "corrupt 1%" 2>&1)
  [ $? = 2 ] && ok "impairer refuses netem words it cannot emulate" || fail "lan_netem corrupt: $out"
  # A TCP stream through a lossy, jittery, duplicating link arrives intact; with offloads off
  # (ethtool present) no frame above 1514 bytes crosses the impairer.
  xfer() {  # BYTES -> "ok" when both ends agree on length and SHA-256
    lan_exec 2 python3 "$HERE/../lan/tcp_transfer.py" recv 9100 --timeout 40 >"$TMP/x.recv" 2>&1 & local rp=$!
    local s; s=$(lan_exec 1 python3 "$HERE/../lan/tcp_transfer.py" send "$(lan_ip 2)" 9100 "$1" --timeout 40 2>&1)
    wait "$rp"
    [ -n "$s" ] && [ "$s" = "$(cat "$TMP/x.recv")" ] && [ "$s" != "${s#"bytes=$1 "}" ] && echo ok ||
      echo "send '$s' recv '$(cat "$TMP/x.recv")'"
  }
  lan_netem 2 "loss 2% delay 2ms 2ms duplicate 2% reorder 5%" || fail "lan_netem for the TCP transfer"
  res=$(xfer 3000000)
  stats=$(lan_impair_stats 2)
  [ "$res" = ok ] && ok "3 MB over TCP through 2% loss/dup, 2+-2 ms: intact" || fail "TCP transfer: $res"
  if command -v ethtool >/dev/null; then
    big=$(echo "$stats" | grep -o 'max_frame=[0-9]*' | cut -d= -f2 | sort -n | tail -n 1)
    [ -n "$big" ] && [ "$big" -le 1514 ] && ok "offloads off: largest frame $big bytes" ||
      fail "offloads off, yet a ${big:-?}-byte frame crossed: $stats"
    lan_exec 2 ethtool -k eth0 | grep -q '^tcp-segmentation-offload: off' || fail "TSO still on at node 2"
  fi
  lan_faults_clear 2 >/dev/null
  # With offloads kept, GSO super-frames cross whole (PACKET_VNET_HDR) and arrive intact.
  LAN_IMPAIR_OFFLOADS=keep lan_netem 2 "delay 1ms" || fail "lan_netem with offloads kept"
  res=$(xfer 8000000)
  big=$(lan_impair_stats 2 | grep -o 'max_frame=[0-9]*' | cut -d= -f2 | sort -n | tail -n 1)
  [ "$res" = ok ] && [ "${big:-0}" -gt 1514 ] && ok "offloads kept: 8 MB intact, super-frames up to $big bytes" ||
    fail "TCP with offloads kept: $res, largest frame ${big:-?}"
  # A silent cut acts on the bridge port the impairer hangs off (s2).
  lan_link_down 2 --silent || fail "lan_link_down --silent with an impairer"
  ! reach 1 "$(lan_ip 2)" && ok "silent cut works through the impairer" || fail "node 2 reachable while cut"
  lan_link_up 2 || fail "lan_link_up with an impairer"
  reach_soon 1 "$(lan_ip 2)" || fail "node 2 unreachable after the silent cut"
  final=$(lan_faults_clear 2)
  echo "$final" | grep -q ': final ' && ok "lan_faults_clear stops the impairer" || fail "no final counters: '$final'"
  [ -z "$(_lan_impair_pids 2)" ] || fail "impairer still runs after lan_faults_clear"
  _lan_has_link "$hub" r2 && fail "r2 left behind"
  ip -n "$hub" -o link show p2 | grep -q ' master br0 ' && ok "p2 back on the bridge" || fail "p2 not on br0"
  if command -v ethtool >/dev/null; then
    lan_exec 2 ethtool -k eth0 | grep -q '^tcp-segmentation-offload: on' && ok "node 2's TSO back on" ||
      fail "node 2's TSO not restored"
  fi
fi
if lan_netem 2 "loss 100%"; then
  ! reach 1 "$(lan_ip 2)" && ok "loss 100% cuts node 2 off" || fail "node 2 still reachable at loss 100%"
  reach 1 "$(lan_ip 3)" && ok "node 3 unaffected by node 2's loss" || fail "node 3 hit by node 2's loss"
  lan_faults_clear 2 >/dev/null
  reach_soon 1 "$(lan_ip 2)" && ok "faults cleared: node 2 back" || fail "node 2 unreachable after clearing"
elif command -v nft >/dev/null || lan_have_netem; then
  fail "lan_netem loss 100% failed"
else
  echo "note: neither sch_netem nor nft: loss untested (scripts/deps.sh lan installs nftables)"
fi

if command -v nft >/dev/null; then
  lan_loss 2 12.5 && lan_exec 2 nft list table netdev mslan_eth0 | grep "mod 10000 < 1250 drop" >/dev/null &&
    ok "lan_loss takes fractional percents" || fail "lan_loss 12.5 rule"
  lan_faults_clear 2
fi

# ---- link down / up ----
lan_link_down 3 || fail "lan_link_down"
! reach 1 "$(lan_ip 3)" && ok "node 3 unreachable while unplugged" || fail "node 3 reachable while down"
reach 1 "$(lan_ip 2)" || fail "node 2 lost while node 3 was unplugged"
lan_exec 3 ip link show eth0 | grep NO-CARRIER >/dev/null && ok "node 3 sees carrier loss" || fail "node 3 still has carrier"
lan_link_up 3 || fail "lan_link_up"
reach_soon 1 "$(lan_ip 3)" && ok "node 3 reachable after replug" || fail "node 3 unreachable after replug"
reach_soon 1 "$(lan_ip6 3)" || fail "node 3's IPv6 address did not survive the unplug"

lan_link_down 3 --silent || fail "lan_link_down --silent"
! reach 1 "$(lan_ip 3)" && ok "node 3 unreachable while silently cut" || fail "node 3 reachable while silently cut"
lan_exec 3 ip link show eth0 | grep NO-CARRIER >/dev/null && fail "silent cut changed node 3's carrier" ||
  ok "node 3 keeps carrier during a silent cut"
lan_link_up 3 || fail "lan_link_up after --silent"
reach_soon 1 "$(lan_ip 3)" && ok "node 3 back after silent cut" || fail "node 3 unreachable after silent cut"

# ---- multicast stays on the LAN ----
lan_exec 2 ip route get 224.0.0.251 | grep "dev eth0" >/dev/null && ok "multicast routes to eth0" ||
  fail "no multicast route on eth0"

# ---- cleanup: normal exit, failure, SIGTERM, SIGKILL + sweeper ----
# A child test: builds a 2-node LAN, records its run, then passes, fails or blocks per $1.
# Started as a plain command so that $! is the child bash itself, not a subshell around it.
CHILD=(bash -c '
  set -e
  source "$1"
  lan_up 2
  lan_netem 1 "delay 1ms"  # on kernels without sch_netem: an impairer process in the hub
  echo "$_LAN_RUN" >"$2/run.$3"
  case "$3" in
    pass) exit 0 ;;
    fail) false ;;
    *) lan_exec 1 sleep 300 & wait $! ;;
  esac' child "$LAN_SH" "$TMP")
wait_file() { for _ in $(seq 100); do [ -s "$1" ] && return 0; sleep 0.1; done; return 1; }
# Impairer processes of run $1 still alive (none may outlive their LAN).
impairers_of() { pgrep -f "wire_impair.py .*--tag mslan-$1-" | wc -l; }

"${CHILD[@]}" pass; rc=$?
r=$(cat "$TMP/run.pass" 2>/dev/null)
[ "$rc" = 0 ] && [ -n "$r" ] && [ "$(lan_runs "$r")" = 0 ] && [ "$(impairers_of "$r")" = 0 ] &&
  ok "namespaces removed after a pass" || fail "after a pass: rc=$rc, $(lan_runs "$r") namespaces left"

"${CHILD[@]}" fail; rc=$?
r=$(cat "$TMP/run.fail" 2>/dev/null)
[ "$rc" = 1 ] && [ "$(lan_runs "$r")" = 0 ] && [ "$(impairers_of "$r")" = 0 ] &&
  ok "namespaces removed after a failure, exit 1 kept" ||
  fail "after a failure: rc=$rc, $(lan_runs "$r") namespaces left"

"${CHILD[@]}" term & pid=$!
wait_file "$TMP/run.term" || fail "term child did not start"
r=$(cat "$TMP/run.term" 2>/dev/null)
kill -TERM "$pid"; wait "$pid" 2>/dev/null; rc=$?
[ "$rc" = 143 ] && [ "$(lan_runs "$r")" = 0 ] && [ "$(impairers_of "$r")" = 0 ] &&
  ok "namespaces and processes (impairer too) removed after SIGTERM" ||
  fail "after SIGTERM: rc=$rc, $(lan_runs "$r") namespaces left"

"${CHILD[@]}" kill & pid=$!
wait_file "$TMP/run.kill" || fail "kill child did not start"
r=$(cat "$TMP/run.kill" 2>/dev/null)
kill -KILL "$pid"; wait "$pid" 2>/dev/null
[ "$(lan_runs "$r")" = 3 ] || fail "SIGKILL child should leave 3 namespaces, has $(lan_runs "$r")"
[ "$backend" != impairer ] || [ "$(impairers_of "$r")" = 1 ] || fail "SIGKILL child's impairer not running"
lan_sweep 2>/dev/null
[ "$(lan_runs "$r")" = 0 ] && [ "$(impairers_of "$r")" = 0 ] && ok "sweeper removed the SIGKILLed run" ||
  fail "sweeper left $(lan_runs "$r") namespaces of dead run $r"
[ "$(lan_runs "$run")" = 4 ] && ok "sweeper kept this live run" || fail "sweeper removed a live run"

lan_cleanup
[ "$(lan_runs "$run")" = 0 ] && ok "lan_cleanup removed this run" || fail "lan_cleanup left namespaces"
[ "$(host_links)" = "$host_before" ] || fail "host interfaces changed"

if [ "$FAILED" = 0 ]; then echo "PASS lan_harness_selftest"; exit 0; fi
exit 1
