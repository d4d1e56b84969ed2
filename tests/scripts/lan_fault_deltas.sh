#!/usr/bin/env bash
# Namespace-LAN fault test: scenario 'deltas' of tests/lan/lan_faults.py (see its docstring):
# large slices edited at random travel as deltas under loss/jitter/duplication/reordering and a
# restart, checked byte-exact on every node.
# Usage: lan_fault_deltas.sh [build-dir]    Exit 77 = skipped (not root, no netns, tools not built).
set -uo pipefail
# shellcheck source=../lan/run_fault.sh
source "$(dirname "$0")/../lan/run_fault.sh"
run_fault deltas 4 "${1:-build}"
