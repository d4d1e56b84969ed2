#!/usr/bin/env bash
# Namespace-LAN fault test: scenario 'mdns_discovery' of tests/lan/lan_faults.py (see its docstring).
# Usage: lan_mdns_discovery.sh [build-dir]    Exit 77 = skipped (not root, no netns, tools not built).
set -uo pipefail
# shellcheck source=../lan/run_fault.sh
source "$(dirname "$0")/../lan/run_fault.sh"
run_fault mdns_discovery 4 "${1:-build}" 
