#!/usr/bin/env bash
# Namespace-LAN test: scenario 'mdns_interfaces' of tests/lan/lan_faults.py (see its docstring):
# a node on every multicast interface follows a veth that appears and is deleted, twice.
# Usage: lan_mdns_interfaces.sh [build-dir]    Exit 77 = skipped (not root, no netns, tools not built).
set -uo pipefail
# shellcheck source=../lan/run_fault.sh
source "$(dirname "$0")/../lan/run_fault.sh"
run_fault mdns_interfaces 2 "${1:-build}"
