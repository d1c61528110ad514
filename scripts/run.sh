#!/usr/bin/env bash
# Starts the whole system for a newcomer: the collector on an embedded SQLite file
# (.tracewire/tracewire.db) on http://127.0.0.1:8080, plus the demo shop when it is present.
# Everything is built first (with cargo's progress), then started; the one-time admin password
# and the ingest key are printed last, in a frame. Ctrl-C, or a SIGTERM/SIGINT/SIGHUP to this
# script or to the `npm start` above it, stops everything gracefully (the collector drains its
# writer first). TRACEWIRE_NO_DEMO=1 starts the collector alone.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export TRACEWIRE_INGEST_KEY="${TRACEWIRE_INGEST_KEY:-tw_demo_key}"
export TRACEWIRE_LISTEN="${TRACEWIRE_LISTEN:-127.0.0.1:8080}"
export TRACEWIRE_DATABASE_URL="${TRACEWIRE_DATABASE_URL:-sqlite://$ROOT/.tracewire/tracewire.db}"
export TRACEWIRE_ARCHIVE_DIR="${TRACEWIRE_ARCHIVE_DIR:-$ROOT/.tracewire/archive}"
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/tracewire"
mkdir -p .tracewire
chmod 700 .tracewire
demo=0
if [ "${TRACEWIRE_NO_DEMO:-0}" != 1 ] && [ -x scripts/run-demo.sh ]; then demo=1; fi

echo "==> building the collector and its admin UI (the first build compiles ~400 crates: several minutes)"
# The collector's build script builds the admin UI (wasm) and embeds it; it installs nothing,
# so the wasm tools come first (quiet when present).
scripts/ensure-toolchain.sh --ui-only
cargo build -p tracewire-server --bin tracewire
if [ "$demo" = 1 ]; then
  TRACEWIRE_DEMO_BUILD_ONLY=1 scripts/run-demo.sh
fi

# The collector prints a generated admin password once, on the start that creates it; it is
# kept aside here (in a private temp dir, deleted on exit) and shown after everything is up.
secrets="$(mktemp -d)"
chmod 700 "$secrets"
pids=()
stopping=0
cleanup() {
  [ "$stopping" = 1 ] && return
  stopping=1
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait || true
  rm -rf "$secrets"
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM HUP

"$BIN" > >(awk -v out="$secrets/first-start" '
  /^Created (admin user|project)/ { print >> out; fflush(out); next }
  { print; fflush() }') &
pids+=($!)

# `npm start` runs this script under `sh -c`, which does not pass a SIGTERM on: when the
# parent goes away, stop as if signalled.
parent=$PPID
( while kill -0 "$parent" 2>/dev/null; do sleep 1; done; kill -TERM $$ 2>/dev/null ) &
watcher=$!

for _ in $(seq 1 300); do
  curl -fsS "http://$TRACEWIRE_LISTEN/healthz" >/dev/null 2>&1 && break
  kill -0 "${pids[0]}" 2>/dev/null || { echo "the collector stopped; see its output above" >&2; exit 1; }
  sleep 0.1
done

if [ "$demo" = 1 ]; then
  TRACEWIRE_DEMO_SKIP_BUILD=1 scripts/run-demo.sh &
  pids+=($!)
fi
pids+=("$watcher")

line="--------------------------------------------------------------------------------"
echo "$line"
echo "  Tracewire is running"
echo "  collector + admin UI:  http://$TRACEWIRE_LISTEN"
[ "$demo" = 1 ] && echo "  demo shop:             http://${TRACEWIRE_DEMO_LISTEN:-127.0.0.1:8090}"
echo "  ingest key:            $TRACEWIRE_INGEST_KEY"
echo "  database:              ${TRACEWIRE_DATABASE_URL#sqlite://}"
if [ -s "$secrets/first-start" ]; then
  echo "  first start, shown once:"
  sed 's/^/    /' "$secrets/first-start"
  rm -f "$secrets/first-start"
else
  echo "  admin password:        as printed on the first start; to set a new one:"
  echo "                         scripts/tracewire user passwd admin"
fi
echo "  stop:                  Ctrl-C"
echo "$line"
wait -n "${pids[@]}"
