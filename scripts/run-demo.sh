#!/usr/bin/env bash
# Runs the demo shop (e2e/demo) the way a user of @tracewire/logger would set it up: builds
# the logger package, packs it to logger-wasm/pkg/tracewire-logger.tgz, installs that tarball
# into e2e/demo with npm, then builds and runs the demo backend on http://127.0.0.1:8090
# (shipping its logs to the collector on http://127.0.0.1:8080, key tw_demo_key).
# Honours CARGO_TARGET_DIR (default: the workspace's target/) and TRACEWIRE_DEMO_* settings.
# TRACEWIRE_DEMO_BUILD_ONLY=1 builds and exits; TRACEWIRE_DEMO_SKIP_BUILD=1 runs what was built
# (`npm start` builds everything before it starts anything).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
PKG="$ROOT/logger-wasm/pkg"
TARBALL="$PKG/tracewire-logger.tgz"

if [ "${TRACEWIRE_DEMO_SKIP_BUILD:-0}" != 1 ]; then
echo "==> building @tracewire/logger"
# No fallback to an older build: the demo must run the logger this checkout builds.
scripts/build-logger.sh

echo "==> packing and installing it into e2e/demo"
rm -f "$TARBALL"
packed="$(cd "$PKG" && npm pack --silent | tail -n 1)"
mv "$PKG/$packed" "$TARBALL"
rm -rf e2e/demo/node_modules/@tracewire/logger
(cd e2e/demo && npm install --no-audit --no-fund --no-package-lock --silent)

echo "==> building the demo backend"
cargo build -p tracewire-demo --bin tracewire-demo
fi
[ "${TRACEWIRE_DEMO_BUILD_ONLY:-0}" = 1 ] && exit 0
# exec, so the SIGTERM `npm start` sends on exit reaches the server (which then flushes).
exec "$TARGET_DIR/debug/tracewire-demo" "$@"
