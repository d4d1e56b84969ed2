#!/usr/bin/env bash
# Self-test of the LAN harness tests/lan/lan.sh: builds a 3-node LAN, pings across it, applies
# netem (or, on kernels without sch_netem, nftables loss), unplugs nodes loudly and silently,
# and checks that the namespaces are removed after a normal exit, a failure, SIGTERM, and
# (by the sweeper) SIGKILL. Pings run only between namespaces this test creates.
# Usage: lan_harness_selftest.sh [build-dir]   (the build dir is not used)
# Exit 77 = skipped (not root, no `ip netns`, no ping).
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
reach_soon() { local t; for t in $(seq "${3:-5}"); do reach "$1" "$2" && return 0; done; return 1; }
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
lan_exec 1 ip -o addr show dev eth0 | grep -q "$(lan_ip 1)/24" || fail "node 1 has no $(lan_ip 1)/24"

# ---- netem (or nftables loss) ----
if lan_have_netem; then
  lan_netem 2 "delay 100ms" || fail "lan_netem delay"
  rtt=$(lan_exec 1 ping -n -c1 -W2 "$(lan_ip 2)" | sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p')
  awk -v r="${rtt:-0}" 'BEGIN { exit !(r >= 100) }' && ok "netem delay: rtt ${rtt} ms" ||
    fail "netem delay 100ms not seen (rtt '${rtt}')"
  lan_netem 2 "loss 20% delay 50ms 50ms duplicate 1% reorder 5%" || fail "lan_netem with the full spec"
else
  echo "note: this kernel has no sch_netem: delay/duplicate/reorder untested, loss via nftables"
  out=$(lan_netem 2 "loss 20% delay 50ms" 2>&1)
  [ $? = 2 ] && ok "lan_netem refuses what it cannot emulate" || fail "lan_netem without netem: $out"
fi
if lan_netem 2 "loss 100%"; then
  ! reach 1 "$(lan_ip 2)" && ok "loss 100% cuts node 2 off" || fail "node 2 still reachable at loss 100%"
  reach 1 "$(lan_ip 3)" && ok "node 3 unaffected by node 2's loss" || fail "node 3 hit by node 2's loss"
  lan_faults_clear 2
  reach_soon 1 "$(lan_ip 2)" && ok "faults cleared: node 2 back" || fail "node 2 unreachable after clearing"
elif command -v nft >/dev/null || lan_have_netem; then
  fail "lan_netem loss 100% failed"
else
  echo "note: neither sch_netem nor nft: loss untested (scripts/deps.sh lan installs nftables)"
fi

if command -v nft >/dev/null; then
  lan_loss 2 12.5 && lan_exec 2 nft list table netdev mslan_eth0 | grep -q "mod 10000 < 1250 drop" &&
    ok "lan_loss takes fractional percents" || fail "lan_loss 12.5 rule"
  lan_faults_clear 2
fi

# ---- link down / up ----
lan_link_down 3 || fail "lan_link_down"
! reach 1 "$(lan_ip 3)" && ok "node 3 unreachable while unplugged" || fail "node 3 reachable while down"
reach 1 "$(lan_ip 2)" || fail "node 2 lost while node 3 was unplugged"
lan_exec 3 ip link show eth0 | grep -q NO-CARRIER && ok "node 3 sees carrier loss" || fail "node 3 still has carrier"
lan_link_up 3 || fail "lan_link_up"
reach_soon 1 "$(lan_ip 3)" && ok "node 3 reachable after replug" || fail "node 3 unreachable after replug"
reach_soon 1 "$(lan_ip6 3)" || fail "node 3's IPv6 address did not survive the unplug"

lan_link_down 3 --silent || fail "lan_link_down --silent"
! reach 1 "$(lan_ip 3)" && ok "node 3 unreachable while silently cut" || fail "node 3 reachable while silently cut"
lan_exec 3 ip link show eth0 | grep -q NO-CARRIER && fail "silent cut changed node 3's carrier" ||
  ok "node 3 keeps carrier during a silent cut"
lan_link_up 3 || fail "lan_link_up after --silent"
reach_soon 1 "$(lan_ip 3)" && ok "node 3 back after silent cut" || fail "node 3 unreachable after silent cut"

# ---- multicast stays on the LAN ----
lan_exec 2 ip route get 224.0.0.251 | grep -q "dev eth0" && ok "multicast routes to eth0" ||
  fail "no multicast route on eth0"

# ---- cleanup: normal exit, failure, SIGTERM, SIGKILL + sweeper ----
# A child test: builds a 2-node LAN, records its run, then passes, fails or blocks per $1.
# Started as a plain command so that $! is the child bash itself, not a subshell around it.
CHILD=(bash -c '
  set -e
  source "$1"
  lan_up 2
  echo "$_LAN_RUN" >"$2/run.$3"
  case "$3" in
    pass) exit 0 ;;
    fail) false ;;
    *) lan_exec 1 sleep 300 & wait $! ;;
  esac' child "$LAN_SH" "$TMP")
wait_file() { for _ in $(seq 100); do [ -s "$1" ] && return 0; sleep 0.1; done; return 1; }

"${CHILD[@]}" pass; rc=$?
r=$(cat "$TMP/run.pass" 2>/dev/null)
[ "$rc" = 0 ] && [ -n "$r" ] && [ "$(lan_runs "$r")" = 0 ] && ok "namespaces removed after a pass" ||
  fail "after a pass: rc=$rc, $(lan_runs "$r") namespaces left"

"${CHILD[@]}" fail; rc=$?
r=$(cat "$TMP/run.fail" 2>/dev/null)
[ "$rc" = 1 ] && [ "$(lan_runs "$r")" = 0 ] && ok "namespaces removed after a failure, exit 1 kept" ||
  fail "after a failure: rc=$rc, $(lan_runs "$r") namespaces left"

"${CHILD[@]}" term & pid=$!
wait_file "$TMP/run.term" || fail "term child did not start"
r=$(cat "$TMP/run.term" 2>/dev/null)
kill -TERM "$pid"; wait "$pid" 2>/dev/null; rc=$?
[ "$rc" = 143 ] && [ "$(lan_runs "$r")" = 0 ] && ok "namespaces and processes removed after SIGTERM" ||
  fail "after SIGTERM: rc=$rc, $(lan_runs "$r") namespaces left"

"${CHILD[@]}" kill & pid=$!
wait_file "$TMP/run.kill" || fail "kill child did not start"
r=$(cat "$TMP/run.kill" 2>/dev/null)
kill -KILL "$pid"; wait "$pid" 2>/dev/null
[ "$(lan_runs "$r")" = 3 ] || fail "SIGKILL child should leave 3 namespaces, has $(lan_runs "$r")"
lan_sweep 2>/dev/null
[ "$(lan_runs "$r")" = 0 ] && ok "sweeper removed the SIGKILLed run" ||
  fail "sweeper left $(lan_runs "$r") namespaces of dead run $r"
[ "$(lan_runs "$run")" = 4 ] && ok "sweeper kept this live run" || fail "sweeper removed a live run"

lan_cleanup
[ "$(lan_runs "$run")" = 0 ] && ok "lan_cleanup removed this run" || fail "lan_cleanup left namespaces"
[ "$(host_links)" = "$host_before" ] || fail "host interfaces changed"

if [ "$FAILED" = 0 ]; then echo "PASS lan_harness_selftest"; exit 0; fi
exit 1
