#!/usr/bin/env bash
# Runs every test of the project, on a fresh machine too: installs what is missing (wasm32
# target, wasm-bindgen-cli pinned to Cargo.lock, binaryen from npm, Debian's chromium), makes
# sure PostgreSQL is up, then checks formatting and lints and runs native, browser and
# end-to-end tests. Stops at the first failing step.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
started=$SECONDS
step() { printf '\n==> %s (%ss)\n' "$*" "$((SECONDS - started))"; }

step "toolchain"
scripts/ensure-toolchain.sh --browser

step "PostgreSQL on 127.0.0.1:5432"
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  echo "starting the local PostgreSQL cluster"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432

step "admin UI (Leptos, wasm32): build into target/admin-ui/dist, embedded by the collector"
scripts/build-ui.sh

step "formatting"
cargo fmt --all -- --check

step "lints (native and wasm32)"
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy -p tracewire-logger --target wasm32-unknown-unknown -- -D warnings
cargo clippy -p tracewire-admin --target wasm32-unknown-unknown -- -D warnings

step "shared types build for wasm32"
cargo build -q -p tracewire-shared --target wasm32-unknown-unknown

test_databases() {
  psql -h 127.0.0.1 -U postgres -d postgres -Atc \
    "SELECT count(*) FROM pg_database WHERE datname LIKE 'tw\_test\_%'"
}
databases_before="$(test_databases)"

step "native tests (unit, property, integration on SQLite and PostgreSQL)"
cargo test --workspace

step "ingest decoders fuzzed in-process (native JSON, Sentry, OTLP; 3 minutes)"
# --workspace: the same feature set as the test run above, so nothing is rebuilt.
TRACEWIRE_FUZZ_SECONDS="${TRACEWIRE_FUZZ_SECONDS:-180}" \
  cargo test -q --workspace --test decoder_fuzz decoders_never_panic -- --nocapture

step "every PostgreSQL test database was dropped"
databases_after="$(test_databases)"
echo "tw_test_* databases before the tests: $databases_before, after: $databases_after"
[ "$databases_before" = "$databases_after" ]

step "the README's quick start against npm start"
scripts/check-readme.sh

step "schemathesis against a live collector, driven by its OpenAPI document"
scripts/schemathesis.sh

if [ -f logger-wasm/tests/web.rs ]; then
  step "browser logger in headless Chromium (wasm-bindgen-test)"
  CHROMEDRIVER=/usr/bin/chromedriver cargo test -p tracewire-logger --target wasm32-unknown-unknown
fi

step "npm package @tracewire/logger"
scripts/build-logger.sh

step "the package end to end in headless Chromium (smoke test)"
(cd logger-wasm/bench && npm install --no-audit --no-fund --silent)
mkdir -p .tmp
TMPDIR="$ROOT/.tmp" node logger-wasm/bench/bench.mjs --smoke

if [ -f e2e/package.json ]; then
  step "end-to-end tests in headless Chromium"
  npm install --no-audit --no-fund --silent
  mkdir -p .tmp
  TMPDIR="$ROOT/.tmp" npm run --silent e2e
fi

step "all tests passed"
