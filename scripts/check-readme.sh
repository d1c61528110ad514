#!/usr/bin/env bash
# Keeps the README true: starts `npm start` (collector only) on a fresh database and a free port,
# runs every ```bash block of the README's "Quick start" section in order, in one shell, with
# the port swapped in, then stops npm with SIGTERM and checks the collector is gone. A block
# whose first line is `npm start` or `npm test` is what this script does itself, so it is skipped.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
work="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
npm_pid=""
finish() {
  [ -n "$npm_pid" ] && kill -TERM "$npm_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap finish EXIT

# The quick-start blocks, concatenated.
awk '
  /^## / { in_section = ($0 == "## Quick start") }
  in_section && /^```bash$/ { in_block = 1; first = 1; next }
  in_block && /^```$/ { in_block = 0; next }
  in_block {
    if (first && ($1 == "npm" && ($2 == "start" || $2 == "test"))) { skip = 1 }
    if (first) { first = 0 }
    if (!skip) print
  }
  !in_block { skip = 0 }
' README.md | sed "s/127\.0\.0\.1:8080/127.0.0.1:$port/g" > "$work/quick-start.sh"
[ -s "$work/quick-start.sh" ] || { echo "no quick-start blocks found in README.md" >&2; exit 1; }

export TRACEWIRE_NO_DEMO=1
export TRACEWIRE_LISTEN="127.0.0.1:$port"
export TRACEWIRE_DATABASE_URL="sqlite://$work/tracewire.db"
export TRACEWIRE_ARCHIVE_DIR="$work/archive"
setsid npm start > "$work/npm-start.log" 2>&1 &
npm_pid=$!
for _ in $(seq 1 600); do
  grep -q "Tracewire is running" "$work/npm-start.log" && break
  kill -0 "$npm_pid" 2>/dev/null || { cat "$work/npm-start.log" >&2; echo "npm start exited" >&2; exit 1; }
  sleep 0.5
done
grep -q "Created admin user" "$work/npm-start.log" || { cat "$work/npm-start.log" >&2; echo "no framed first-start password" >&2; exit 1; }

echo "==> README quick start, $(grep -c . "$work/quick-start.sh") lines, against 127.0.0.1:$port"
if ! (cd "$ROOT" && bash -euo pipefail "$work/quick-start.sh"); then
  echo "a README quick-start command failed; collector output:" >&2
  tail -n 30 "$work/npm-start.log" >&2
  exit 1
fi

echo "==> SIGTERM to npm start stops the collector"
# The collector started for this check: a tracewire process with this check's database.
collectors() {
  for env in /proc/[0-9]*/environ; do
    pid="${env#/proc/}"; pid="${pid%/environ}"
    tr '\0' '\n' < "/proc/$pid/cmdline" 2>/dev/null | head -1 | grep -q '/tracewire$' || continue
    grep -qa "TRACEWIRE_DATABASE_URL=sqlite://$work/" "$env" 2>/dev/null && echo "$pid"
  done
  return 0
}
[ -n "$(collectors)" ] || { echo "cannot find the collector process" >&2; exit 1; }
kill -TERM "$npm_pid"
for _ in $(seq 1 150); do
  if ! curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then break; fi
  sleep 0.1
done
if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then
  echo "the collector still answers 15 s after SIGTERM to npm" >&2; exit 1
fi
npm_pid=""
for _ in $(seq 1 100); do [ -z "$(collectors)" ] && break; sleep 0.1; done
[ -z "$(collectors)" ] || { echo "collector process $(collectors) still running after SIGTERM to npm" >&2; exit 1; }
echo "README quick start: ok"
