# shellcheck shell=bash
# lan.sh — a simulated LAN of network namespaces for script tests. Source it; do not run it.
#
#   ms-<run>-1 (eth0 10.78.<net>.1) --+
#   ms-<run>-2 (eth0 10.78.<net>.2) --+-- br0 in ms-<run>-hub (a plain L2 switch, no addresses)
#   ms-<run>-N (eth0 10.78.<net>.N) --+
#
# <run> is the PID of the shell that called lan_up; <net> = <run> % 250 + 1. The 10.78/16 block
# keeps clear of tests/scripts/mdns_avahi_interop.sh (10.77.0.0/24, namespaces msA-/msB-/msBR-).
# With --ipv6 each node also gets fd6d:736c:<net>::<i>/64 (ULA); IPv6 link-local is always on.
# Each node has lo, eth0, a route for 224.0.0.0/4 on eth0, and nothing else: no default route,
# no path to the host. The bridge floods multicast (snooping off), so mDNS works between nodes.
#
# Safety: every link is created directly inside namespaces this file creates (`ip -n`), the
# host's interfaces are never touched, and every command runs under `timeout`.
#
# Lifetime: lan_up installs traps on EXIT, INT, TERM and HUP that call lan_cleanup (chained
# before any trap the caller already set), so the namespaces go away when the test passes,
# fails or is killed by a catchable signal. A run killed by SIGKILL leaves them behind;
# lan_up (and lan_sweep) removes namespaces `ms-<pid>-*` whose <pid> no longer runs. Bash runs
# traps only between commands: wait for long things with `cmd & wait $!`, not a foreground cmd.
#
# API (node index i is 1..N; "hub" names the switch namespace):
#   lan_require               exit 77 (skip) unless root, `ip netns`, `timeout` and `tc` work
#   lan_skip MSG              print "SKIP <script>: MSG" and exit 77 (cleanup runs)
#   lan_up N [--ipv6]         build the LAN (sweeps stale runs first); returns 1 on failure
#   lan_ns i | hub            the namespace name
#   lan_ip i / lan_ip6 i      node i's IPv4 / ULA IPv6 address (no prefix length)
#   lan_exec i CMD...         run CMD in node i under timeout $LAN_EXEC_TIMEOUT (default 60 s);
#                             background it (`lan_exec 2 daemon &`) for long-running processes
#   lan_netem i SPEC          netem impairment on both directions of node i's link, e.g.
#                             lan_netem 2 "loss 20% delay 50ms 50ms duplicate 5% reorder 10%";
#                             applying it again replaces it. Backend (lan_netem_backend):
#                             tc netem where the kernel has sch_netem, else the userspace
#                             impairer (see below), else nftables for a pure "loss P%".
#                             Returns 2 when no backend can apply SPEC as asked.
#   lan_netem_backend         prints netem | impairer | nft (what lan_netem would use)
#   lan_have_netem            true when the kernel has sch_netem
#   lan_loss i P              drop P% (may be fractional) of packets each way, via nftables
#   lan_impair_stats i        the impairer's counters for node i's link (one line; empty if none)
#   lan_faults_clear i        remove netem, impairer and loss from node i; prints the
#                             impairer's final counters, if it had one
#   lan_link_down i [--silent] unplug node i at the switch: node i sees carrier loss; with
#                             --silent the switch port just stops forwarding (no carrier change,
#                             like a peer walking out of Wi-Fi range)
#   lan_link_up i             plug it back in (undoes either kind)
#   lan_unplug i              delete node i's eth0 (and its switch port): the interface is gone,
#                             not just down (interface-following tests)
#   lan_plug i [--ipv6]       create it again, with the same addresses (and MAC chosen anew)
#   lan_cleanup               kill every process in the LAN's namespaces and delete them
#   lan_sweep                 delete namespaces of earlier runs whose owner process is gone
# Tunables: LAN_CMD_TIMEOUT (each setup command, default 10 s), LAN_EXEC_TIMEOUT,
# LAN_NETEM_BACKEND (auto | netem | impairer: force one), LAN_IMPAIR_MAX_SECONDS (an impairer
# exits by itself after this long, default 3600), LAN_IMPAIR_OFFLOADS (off, the default: TSO/GSO
# off on the impaired link; keep: leave them on, the impairer then forwards super-frames whole).
#
# The userspace impairer (kernels without sch_netem): lan_netem takes node i's switch port p<i>
# off the bridge, adds a veth pair r<i> <-> s<i> inside the hub, puts s<i> on the bridge in its
# place and runs tests/lan/wire_impair.py in the hub between p<i> and r<i>:
#
#   node i eth0 == p<i> --[wire_impair.py: loss, delay+jitter, duplicate, reorder]-- r<i> == s<i> -- br0
#
# so every frame to and from node i passes it, each direction impaired on its own, as netem on
# both ends would. The node's namespace only gets TSO/GSO turned off on eth0 (with ethtool, when
# present) so that the spec applies to wire-sized frames. lan_faults_clear undoes all of it;
# lan_cleanup kills the impairer with everything else in the LAN's namespaces.

LAN_IF=eth0
_LAN_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
_LAN_RUN=""
_LAN_OWNER=""
_LAN_N=0
_LAN_NET=0

_lan_ipc() { timeout "${LAN_CMD_TIMEOUT:-10}" ip "$@"; }
_lan_bridge() { timeout "${LAN_CMD_TIMEOUT:-10}" bridge "$@"; }
_lan_in() { local ns=$1; shift; timeout "${LAN_CMD_TIMEOUT:-10}" ip netns exec "$ns" "$@"; }
_lan_err() { echo "lan.sh: $*" >&2; }

lan_skip() {
  echo "SKIP $(basename "${0:-lan}" .sh): $*"
  exit 77
}

lan_require() {
  [ "$(id -u)" = 0 ] || lan_skip "needs root (network namespaces)"
  command -v timeout >/dev/null || lan_skip "no 'timeout'"
  command -v ip >/dev/null || lan_skip "no 'ip' (iproute2)"
  timeout 10 ip netns list >/dev/null 2>&1 || lan_skip "no 'ip netns'"
  command -v tc >/dev/null || lan_skip "no 'tc' (iproute2)"
  command -v bridge >/dev/null || lan_skip "no 'bridge' (iproute2)"
}

lan_ns() {
  [ -n "$_LAN_RUN" ] || { _lan_err "no LAN is up"; return 1; }
  echo "ms-$_LAN_RUN-$1"
}
lan_ip() { echo "10.78.$_LAN_NET.$1"; }
lan_ip6() { echo "fd6d:736c:$_LAN_NET::$1"; }

lan_exec() {
  local ns
  ns=$(lan_ns "$1") || return 1
  shift
  timeout -k 5 "${LAN_EXEC_TIMEOUT:-60}" ip netns exec "$ns" "$@"
}

# Namespaces of one run, by the run's owner PID.
_lan_namespaces_of() {
  _lan_ipc netns list 2>/dev/null | awk '{print $1}' | grep -E "^ms-$1-(hub|[0-9]+)\$"
}

# Kills what runs inside the run's namespaces (TERM, then KILL) and deletes them.
_lan_remove_run() {
  local run=$1 nss ns pid left
  nss=$(_lan_namespaces_of "$run") || return 0
  for ns in $nss; do
    for pid in $(_lan_ipc netns pids "$ns" 2>/dev/null); do kill -TERM "$pid" 2>/dev/null; done
  done
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    left=0
    for ns in $nss; do [ -n "$(_lan_ipc netns pids "$ns" 2>/dev/null)" ] && left=1; done
    [ "$left" = 0 ] && break
    sleep 0.1
  done
  for ns in $nss; do
    for pid in $(_lan_ipc netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    _lan_ipc netns del "$ns" 2>/dev/null || _lan_err "could not delete namespace $ns"
  done
  rm -f "${TMPDIR:-/tmp}/mslan-$run-"impair-*.log
}

lan_sweep() {
  local ns run
  for ns in $(_lan_ipc netns list 2>/dev/null | awk '{print $1}' | grep -E '^ms-[0-9]+-(hub|[0-9]+)$'); do
    run=${ns#ms-}
    run=${run%%-*}
    [ "$run" = "$_LAN_RUN" ] && continue
    kill -0 "$run" 2>/dev/null && continue  # its owner still runs: not ours to remove
    echo "lan.sh: removing stale namespaces of dead run $run" >&2
    _lan_remove_run "$run"
  done
}

lan_cleanup() {
  # Only the shell that built the LAN tears it down (not subshells that inherited the trap).
  [ -n "$_LAN_OWNER" ] && [ "$BASHPID" = "$_LAN_OWNER" ] || return 0
  _lan_remove_run "$_LAN_RUN"
  _LAN_OWNER=""
  _LAN_RUN=""
  _LAN_N=0
}

# Puts lan_cleanup in front of whatever the caller's trap for SIG already does.
_lan_chain_trap() {
  local sig=$1 fallback=$2 old
  old=$(trap -p "$sig")
  if [ -n "$old" ]; then
    eval "set -- $old"
    old=$3
  fi
  case "$old" in *lan_cleanup*) return 0 ;; esac
  # shellcheck disable=SC2064  # expand the old handler now
  trap "lan_cleanup; ${old:-$fallback}" "$sig"
}

_lan_node_up() {
  local i=$1 ipv6=$2 hub node
  hub=$(lan_ns hub)
  node=$(lan_ns "$i")
  _lan_ipc netns add "$node" || return 1
  _lan_in "$node" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
    net.ipv6.conf.all.keep_addr_on_down=1 net.ipv6.conf.default.keep_addr_on_down=1 || return 1
  _lan_ipc -n "$node" link set lo up || return 1
  _lan_node_link "$i" "$ipv6"
}

# Node i's eth0 <-> p<i> on the bridge, with its addresses and the multicast route.
_lan_node_link() {
  local i=$1 ipv6=$2 hub node
  hub=$(lan_ns hub)
  node=$(lan_ns "$i")
  # Both ends are created inside our namespaces: nothing appears in the host's.
  _lan_ipc -n "$hub" link add "p$i" type veth peer name "$LAN_IF" netns "$node" || return 1
  _lan_ipc -n "$hub" link set "p$i" master br0 up || return 1
  _lan_ipc -n "$node" addr add "$(lan_ip "$i")/24" dev "$LAN_IF" || return 1
  if [ "$ipv6" = 1 ]; then
    _lan_ipc -n "$node" addr add "$(lan_ip6 "$i")/64" dev "$LAN_IF" nodad || return 1
  fi
  _lan_ipc -n "$node" link set "$LAN_IF" up || return 1
  _lan_ipc -n "$node" route add 224.0.0.0/4 dev "$LAN_IF" || return 1
}

lan_up() {
  local n=${1:-} ipv6=0 hub i
  [ "${2:-}" = "--ipv6" ] && ipv6=1
  case "$n" in ''|*[!0-9]*) _lan_err "usage: lan_up N [--ipv6]"; return 2 ;; esac
  [ "$n" -ge 1 ] && [ "$n" -le 250 ] || { _lan_err "lan_up: N must be 1..250"; return 2; }
  [ -z "$_LAN_OWNER" ] || { _lan_err "lan_up: a LAN is already up (lan_cleanup first)"; return 2; }
  lan_require
  _LAN_RUN=$BASHPID
  _LAN_OWNER=$BASHPID
  _LAN_NET=$((_LAN_RUN % 250 + 1))
  _LAN_N=$n
  _lan_chain_trap EXIT ""
  _lan_chain_trap INT "exit 130"
  _lan_chain_trap TERM "exit 143"
  _lan_chain_trap HUP "exit 129"
  lan_sweep
  hub=$(lan_ns hub)
  if ! { _lan_ipc netns add "$hub" &&
         # The hub is a switch, not a host: no IPv6 on its ports, so it sends nothing itself.
         _lan_in "$hub" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 &&
         _lan_ipc -n "$hub" link add br0 type bridge mcast_snooping 0 stp_state 0 forward_delay 0 &&
         _lan_ipc -n "$hub" link set br0 up; }; then
    _lan_err "lan_up: could not create the hub"
    lan_cleanup
    return 1
  fi
  for i in $(seq 1 "$n"); do
    _lan_node_up "$i" "$ipv6" || { _lan_err "lan_up: could not create node $i"; lan_cleanup; return 1; }
  done
}

lan_unplug() {
  local hub
  hub=$(lan_ns hub) || return 1
  _lan_has_link "$hub" "r$1" && { _lan_err "lan_unplug: clear node $1's impairer first"; return 1; }
  _lan_ipc -n "$hub" link del "p$1"  # takes the node's eth0 with it
}

lan_plug() {
  local i=$1 ipv6=0
  [ "${2:-}" = "--ipv6" ] && ipv6=1
  _lan_has_link "$(lan_ns "$i")" "$LAN_IF" && { _lan_err "lan_plug: node $i already has $LAN_IF"; return 1; }
  _lan_node_link "$i" "$ipv6"
}

lan_have_netem() {
  if [ -z "${_LAN_NETEM_OK:-}" ]; then
    _LAN_NETEM_OK=0
    # Probe on the loopback of the hub: harmless, and removed at once.
    if _lan_in "$(lan_ns hub)" tc qdisc add dev lo root netem delay 0ms 2>/dev/null; then
      _LAN_NETEM_OK=1
      _lan_in "$(lan_ns hub)" tc qdisc del dev lo root 2>/dev/null
    fi
  fi
  [ "$_LAN_NETEM_OK" = 1 ]
}

lan_netem_backend() {
  case "${LAN_NETEM_BACKEND:-auto}" in
    netem) echo netem; return ;;
    impairer) echo impairer; return ;;
    auto) ;;
    *) _lan_err "LAN_NETEM_BACKEND must be auto, netem or impairer"; return 2 ;;
  esac
  if lan_have_netem; then echo netem
  elif command -v python3 >/dev/null; then echo impairer
  else echo nft
  fi
}

lan_netem() {
  local i=$1 spec=$2 hub node backend
  hub=$(lan_ns hub) && node=$(lan_ns "$i") || return 1
  backend=$(lan_netem_backend) || return 2
  case "$backend" in
    netem)
      # shellcheck disable=SC2086  # SPEC is a list of netem words
      _lan_in "$node" tc qdisc replace dev "$LAN_IF" root netem $spec &&
        _lan_in "$hub" tc qdisc replace dev "p$i" root netem $spec
      return ;;
    impairer)
      _lan_impair "$i" "$spec"
      return ;;
  esac
  if [[ "$spec" =~ ^[[:space:]]*loss[[:space:]]+([0-9]+(\.[0-9]+)?)%[[:space:]]*$ ]]; then
    lan_loss "$i" "${BASH_REMATCH[1]}"
    return
  fi
  _lan_err "lan_netem: no sch_netem and no python3 for the impairer; only \"loss P%\" can be emulated here"
  return 2
}

# ---- the userspace impairer (tests/lan/wire_impair.py) ----
_lan_impair_log() { echo "${TMPDIR:-/tmp}/mslan-$_LAN_RUN-impair-$1.log"; }
_lan_impair_tag() { echo "mslan-$_LAN_RUN-$1"; }
_lan_has_link() { _lan_ipc -n "$1" link show "$2" >/dev/null 2>&1; }

# PIDs of node i's impairer: the hub's processes whose command line carries its tag.
_lan_impair_pids() {
  local tag pid
  tag=$(_lan_impair_tag "$1")
  for pid in $(_lan_ipc netns pids "$(lan_ns hub)" 2>/dev/null); do
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "wire_impair.py .*--tag $tag " && echo "$pid"
  done
}

# TERM, then (after up to 3 s) KILL.
_lan_impair_stop() {
  local pids pid
  pids=$(_lan_impair_pids "$1")
  [ -n "$pids" ] || return 0
  for pid in $pids; do kill -TERM "$pid" 2>/dev/null; done
  for _ in $(seq 30); do
    [ -z "$(_lan_impair_pids "$1")" ] && return 0
    sleep 0.1
  done
  for pid in $(_lan_impair_pids "$1"); do kill -KILL "$pid" 2>/dev/null; done
}

# TSO/GSO off, so that frames cross the impairer at wire size (optional: the impairer also
# forwards offloaded frames intact, through PACKET_VNET_HDR).
# LAN_IMPAIR_OFFLOADS=keep leaves them as they are.
_lan_offloads() {
  local ns=$1 dev=$2 state=$3
  [ "${LAN_IMPAIR_OFFLOADS:-off}" = keep ] && return 0
  command -v ethtool >/dev/null || return 0
  _lan_in "$ns" ethtool -K "$dev" tso "$state" gso "$state" >/dev/null 2>&1 ||
    _lan_err "could not turn TSO/GSO $state on $dev"
  return 0
}

_lan_impair() {
  local i=$1 spec=$2 hub node log tag pid
  hub=$(lan_ns hub) && node=$(lan_ns "$i") || return 1
  _lan_in "$hub" python3 "$_LAN_DIR/wire_impair.py" --check "$spec" >/dev/null || return 2
  log=$(_lan_impair_log "$i")
  tag=$(_lan_impair_tag "$i")
  _lan_impair_stop "$i"
  if ! _lan_has_link "$hub" "r$i"; then
    _lan_ipc -n "$hub" link add "r$i" type veth peer name "s$i" || return 1
    _lan_offloads "$hub" "s$i" off
    _lan_offloads "$hub" "r$i" off
    _lan_offloads "$hub" "p$i" off
    _lan_offloads "$node" "$LAN_IF" off
    _lan_ipc -n "$hub" link set "r$i" promisc on up || return 1
    _lan_ipc -n "$hub" link set "s$i" up || return 1
  fi
  # Started detached (its output goes to the log, not to our caller's pipes); it exits on its
  # own after LAN_IMPAIR_MAX_SECONDS at the latest, and lan_cleanup kills it with the hub.
  : >"$log"
  ip netns exec "$hub" python3 "$_LAN_DIR/wire_impair.py" --a "p$i" --b "r$i" --spec "$spec" \
    --max-seconds "${LAN_IMPAIR_MAX_SECONDS:-3600}" --tag "$tag" </dev/null >>"$log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    grep -q ": ready " "$log" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  if ! grep -q ": ready " "$log" 2>/dev/null; then
    _lan_err "lan_netem: the impairer for node $i did not start: $(tail -n 3 "$log" 2>/dev/null)"
    kill -KILL "$pid" 2>/dev/null
    return 1
  fi
  # Splice it in: p<i> leaves the bridge, s<i> takes its place (the bridge learns node i's MAC
  # on s<i> from its next frame). No carrier change on node i's side.
  if _lan_ipc -n "$hub" -o link show "p$i" 2>/dev/null | grep -q ' master br0 '; then
    _lan_ipc -n "$hub" link set "p$i" nomaster || return 1
    _lan_ipc -n "$hub" link set "p$i" promisc on || return 1
    _lan_ipc -n "$hub" link set "s$i" master br0 || return 1
  fi
}

lan_impair_stats() {
  local pids log n
  pids=$(_lan_impair_pids "$1")
  [ -n "$pids" ] || return 0
  log=$(_lan_impair_log "$1")
  n=$(grep -c ": stats " "$log" 2>/dev/null)
  # shellcheck disable=SC2086  # one or more PIDs
  kill -USR1 $pids 2>/dev/null
  for _ in $(seq 20); do
    [ "$(grep -c ": stats " "$log" 2>/dev/null)" -gt "${n:-0}" ] && break
    sleep 0.05
  done
  grep ": stats " "$log" 2>/dev/null | tail -n 1
}

# Undoes _lan_impair: the impairer stops, r<i>/s<i> go, p<i> goes back on the bridge.
_lan_impair_clear() {
  local i=$1 hub node log
  hub=$(lan_ns hub) && node=$(lan_ns "$i") || return 1
  _lan_has_link "$hub" "r$i" || { [ -z "$(_lan_impair_pids "$i")" ] && return 0; }
  _lan_impair_stop "$i"
  log=$(_lan_impair_log "$i")
  grep ": final " "$log" 2>/dev/null | tail -n 1
  rm -f "$log"
  _lan_ipc -n "$hub" link del "r$i" 2>/dev/null  # takes s<i> (and its bridge port) with it
  _lan_ipc -n "$hub" link set "p$i" promisc off 2>/dev/null
  _lan_ipc -n "$hub" link set "p$i" master br0 || _lan_err "could not put p$i back on the bridge"
  _lan_offloads "$hub" "p$i" on
  _lan_offloads "$node" "$LAN_IF" on
}

lan_loss() {
  local i=$1 pct=$2 per10k hub node
  hub=$(lan_ns hub) && node=$(lan_ns "$i") || return 1
  command -v nft >/dev/null || { _lan_err "lan_loss: needs nft (scripts/deps.sh lan)"; return 2; }
  per10k=$(awk -v p="$pct" 'BEGIN { printf "%d", p * 100 + 0.5 }')
  [ "$per10k" -le 10000 ] || { _lan_err "lan_loss: percent must be <= 100"; return 2; }
  # Ingress on both ends of the veth: into the node, and from the node into the switch.
  _lan_loss_rule "$node" "$LAN_IF" "$per10k" && _lan_loss_rule "$hub" "p$i" "$per10k"
}

_lan_loss_rule() {
  local ns=$1 dev=$2 per10k=$3 table="mslan_$2" verdict
  verdict="numgen random mod 10000 < $per10k drop"
  [ "$per10k" -ge 10000 ] && verdict="drop"
  _lan_in "$ns" nft delete table netdev "$table" 2>/dev/null
  _lan_in "$ns" nft -f - <<EOF
table netdev $table {
  chain ingress {
    type filter hook ingress device "$dev" priority 0; policy accept;
    $verdict
  }
}
EOF
}

lan_faults_clear() {
  local i=$1 hub node
  hub=$(lan_ns hub) && node=$(lan_ns "$i") || return 1
  _lan_in "$node" tc qdisc del dev "$LAN_IF" root 2>/dev/null
  _lan_in "$hub" tc qdisc del dev "p$i" root 2>/dev/null
  _lan_impair_clear "$i"
  if command -v nft >/dev/null; then
    _lan_in "$node" nft delete table netdev "mslan_$LAN_IF" 2>/dev/null
    _lan_in "$hub" nft delete table netdev "mslan_p$i" 2>/dev/null
  fi
  return 0
}

# Node i's bridge port: p<i>, or s<i> while an impairer sits between them.
_lan_port() {
  if _lan_has_link "$(lan_ns hub)" "s$1"; then echo "s$1"; else echo "p$1"; fi
}

lan_link_down() {
  local i=$1 hub
  hub=$(lan_ns hub) || return 1
  if [ "${2:-}" = "--silent" ]; then
    # A disabled bridge port drops frames both ways while both veth ends keep their carrier.
    _lan_bridge -n "$hub" link set dev "$(_lan_port "$i")" state 0
  else
    _lan_ipc -n "$hub" link set "p$i" down
  fi
}

lan_link_up() {
  local i=$1 hub
  hub=$(lan_ns hub) || return 1
  _lan_ipc -n "$hub" link set "p$i" up &&
    _lan_bridge -n "$hub" link set dev "$(_lan_port "$i")" state 3  # 3 = forwarding
}
