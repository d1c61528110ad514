#!/usr/bin/env bash
# Starts the whole system for a newcomer: the collector on an embedded SQLite file
# (.tracewire/tracewire.db) on http://127.0.0.1:8080, plus the demo shop when it is present.
# Ctrl-C stops everything gracefully (the collector drains its writer first).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export TRACEWIRE_INGEST_KEY="${TRACEWIRE_INGEST_KEY:-tw_demo_key}"
export TRACEWIRE_LISTEN="${TRACEWIRE_LISTEN:-127.0.0.1:8080}"
export TRACEWIRE_DATABASE_URL="${TRACEWIRE_DATABASE_URL:-sqlite://$ROOT/.tracewire/tracewire.db}"
mkdir -p .tracewire

echo "==> building the collector (first build takes a few minutes)"
cargo build -q -p tracewire-server --bin tracewire
pids=()
cleanup() { for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done; wait || true; }
trap cleanup EXIT INT TERM

"${CARGO_TARGET_DIR:-$ROOT/target}/debug/tracewire" &
pids+=($!)

if [ -x scripts/run-demo.sh ]; then
  scripts/run-demo.sh &
  pids+=($!)
fi

echo "==> collector on http://$TRACEWIRE_LISTEN (ingest key: $TRACEWIRE_INGEST_KEY); Ctrl-C stops"
wait -n "${pids[@]}"
