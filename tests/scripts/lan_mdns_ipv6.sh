#!/usr/bin/env bash
# Namespace-LAN test: scenario 'mdns_ipv6' of tests/lan/lan_faults.py (see its docstring): two
# nodes with IPv6 only on their veth discover each other over ff02::fb and link over IPv6.
# Usage: lan_mdns_ipv6.sh [build-dir]    Exit 77 = skipped (not root, no netns, tools not built).
set -uo pipefail
# shellcheck source=../lan/run_fault.sh
source "$(dirname "$0")/../lan/run_fault.sh"
LAN_UP_FLAGS=--ipv6 run_fault mdns_ipv6 2 "${1:-build}"
