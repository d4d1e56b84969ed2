#!/usr/bin/env bash
# Installs the client's dev dependencies (React, for the tests and the example) exactly as
# package-lock.json pins them, from the npm registry, unless node_modules already matches the
# lock. ctest runs it as web.npm_ci before the tests that need it. Exit 77: no node/npm.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "SKIP: node and npm are needed (scripts/deps.sh web)"
  exit 77
fi
stamp=node_modules/.meshslice-lock-sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "node_modules matches package-lock.json"
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
echo "$want" > "$stamp"
