#!/usr/bin/env bash
# Namespace-LAN fault test: scenario 'kill_restart' of tests/lan/lan_faults.py (see its docstring).
# Usage: lan_fault_kill_restart.sh [build-dir]    Exit 77 = skipped (not root, no netns, tools not built).
set -uo pipefail
# shellcheck source=../lan/run_fault.sh
source "$(dirname "$0")/../lan/run_fault.sh"
run_fault kill_restart 4 "${1:-build}" 
