#!/usr/bin/env bash
# Namespace-LAN fault test: scenario 'partition' of tests/lan/lan_faults.py (see its docstring).
# Usage: lan_fault_partition.sh [build-dir]    Exit 77 = skipped (not root, no netns, tools not built).
set -uo pipefail
# shellcheck source=../lan/run_fault.sh
source "$(dirname "$0")/../lan/run_fault.sh"
run_fault partition 4 "${1:-build}" --liveness-ms 1500
