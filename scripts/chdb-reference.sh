#!/usr/bin/env bash
# The chdb (embedded ClickHouse) reference run on the query bench's rows (docs/BENCHMARKS.md,
# "chdb reference"). Not part of `npm test`: it downloads chdb (~100 MB) into a venv under
# ~/.cache/tracewire and takes a few minutes.
#
#   scripts/chdb-reference.sh [ROWS]      (default 1000000)
#
# Needs the release query bench: cargo build --release -p tracewire-server --bin tracewire-query-bench
set -euo pipefail
cd "$(dirname "$0")/.."
rows="${1:-1000000}"
chdb_version=4.4.0
target="${CARGO_TARGET_DIR:-target}"
bench="$target/release/tracewire-query-bench"
[ -x "$bench" ] || { echo "chdb-reference: build $bench first" >&2; exit 1; }

python=python3
venv="$HOME/.cache/tracewire/chdb-$chdb_version-py$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
    "$venv/bin/pip" install --quiet "chdb==$chdb_version"
fi

rows_file="$(mktemp /tmp/tracewire-rows-XXXXXX.jsonl)"
trap 'rm -f "$rows_file"' EXIT
"$bench" --rows "$rows" --dump-rows "$rows_file"
"$venv/bin/python" scripts/chdb-reference.py "$rows_file"
