#!/usr/bin/env bash
# Builds the browser logger into the npm package logger-wasm/pkg (@tracewire/logger):
# wasm32 build in the size profile, wasm-snip of the panic machinery, wasm-bindgen --target
# web, wasm-opt -Oz --converge, then twice more after --flatten --rereloop (binaryen 132 from
# npm, never Debian's 108 which breaks wasm-bindgen output). The JS glue wasm-bindgen generates
# is shipped as it is: the entry (js/index.js, with js/encode.js, js/vitals.js and the glue's
# copy of js/host.js) is bundled with it into one minified index.js (esbuild). Then types,
# package.json and README, and the gzip size of everything an app downloads (wasm + index.js),
# which must stay within the budget (LOGGER_BUDGET_GZIP, 26,000 B): the build fails above it.
# Honours CARGO_TARGET_DIR (default: the workspace's target/).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
WASM_OPT="$("$ROOT/scripts/ensure-toolchain.sh" --print-wasm-opt)"
ESBUILD="$("$ROOT/scripts/ensure-toolchain.sh" --print-esbuild)"
WASM_SNIP="$("$ROOT/scripts/ensure-toolchain.sh" --print-wasm-snip)"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
PKG="$ROOT/logger-wasm/pkg"
NAME=tracewire_logger

# strip=false keeps the target_features section wasm-bindgen reads; wasm-opt drops names anyway.
CARGO_PROFILE_WASM_RELEASE_STRIP=false \
  cargo build --quiet --profile wasm-release --target wasm32-unknown-unknown -p tracewire-logger
rm -rf "$PKG"
mkdir -p "$PKG"
# Panics abort (panic = "abort") and none crosses the boundary, but std's panic handler still
# keeps core::fmt alive (~2 KB gzip): wasm-snip turns std/core::panicking into `unreachable`,
# which traps just as the abort would, and wasm-opt then drops what only they used. The -p
# patterns (v0-mangled names) are std/core/alloc functions that only format a panic message and
# never return (`-> !`: slice and str bounds, Vec::remove's index check, allocation failure,
# thread-local access after destruction); they are not under `panicking`, so the first option
# leaves them.
mkdir -p "$PKG/.snip"
"$WASM_SNIP" --snip-rust-panicking-code \
  -p '5slice5index16slice_index_fail$' -p '3str16slice_error_fail$' \
  -p '7raw_vec12handle_error$' -p '7raw_vec17capacity_overflow$' \
  -p '5alloc18handle_alloc_error$' -p '6remove13assert_failed$' \
  -p '6thread5local18panic_access_error$' \
  -o "$PKG/.snip/$NAME.wasm" "$TARGET_DIR/wasm32-unknown-unknown/wasm-release/$NAME.wasm"
# The glue and the module go to a staging directory; only the bundle and the module ship.
# --omit-default-module-path: the entry always says where the module is (fetched with the
# page's fetch from before the entry's patch), so the glue's own default URL is never used.
STAGE="$PKG/.js"
wasm-bindgen --target web --no-typescript --omit-default-module-path --out-dir "$STAGE" \
  "$PKG/.snip/$NAME.wasm"
# binaryen's metadce keeps only the exports the glue uses (`wasm.<name>` in it; the glue is
# read, never changed) and what they reach: wasm-bindgen also exports globals the web target's
# glue never reads.
node -e '
  const js = require("fs").readFileSync(process.argv[1], "utf8");
  const used = [...new Set([...js.matchAll(/\bwasm\.(\w+)/g)].map((m) => m[1]))];
  const nodes = used.map((name) => ({ name, export: name }));
  nodes.push({ name: "glue", root: true, reaches: used });
  console.log(JSON.stringify(nodes));
' "$STAGE/$NAME.js" > "$PKG/.snip/exports.json"
"$(dirname "$WASM_OPT")/wasm-metadce" --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-reference-types --enable-mutable-globals --enable-multivalue \
  --graph-file "$PKG/.snip/exports.json" "$STAGE/${NAME}_bg.wasm" -o "$STAGE/${NAME}_bg.wasm" > /dev/null
rm -rf "$PKG/.snip"
# --low-memory-unused (lets binaryen fold constant offsets into loads and stores): rustc's
# wasm32 layout puts the 1 MiB stack first, growing down from 1 MiB, with the data above it, so
# only a stack nearly 1 MiB deep would touch the low 1 KiB; the core's recursion is bounded
# (encoded.rs MAX_NESTING) and uses a few KiB.
# -Oz twice after the relooper: the second run still removes ~60 B of code (48 B gzip), which
# --converge repeating the list with one -Oz does not (measured).
"$WASM_OPT" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-reference-types --enable-mutable-globals --low-memory-unused \
  --strip-producers --strip-target-features \
  --converge --flatten --rereloop -Oz -Oz --converge --strip-debug "$STAGE/${NAME}_bg.wasm" -o "$PKG/${NAME}_bg.wasm"
if ! grep -q '(global $global$0 (mut i32) (i32.const 1048576))' <("$WASM_OPT" --enable-bulk-memory \
    --enable-nontrapping-float-to-int --enable-sign-ext --enable-reference-types \
    --enable-mutable-globals --enable-multivalue "$PKG/${NAME}_bg.wasm" --print); then
  echo "build-logger: the module's stack no longer starts at 1 MiB below its data;" \
    "--low-memory-unused is not safe any more" >&2
  exit 1
fi
# One ES module: the entry, what it imports and the glue, minified. The glue imports the
# storage functions from its own copy of js/host.js (snippets/<crate>/js/host.js); the entry's
# ./host.js re-exports that copy, so the entry's driver and the module's storage share one
# instance (one outbox lock, one store). esbuild keeps `new URL('…_bg.wasm', import.meta.url)`
# as written, so bundlers (Vite) still find the wasm.
cp "$ROOT/logger-wasm/js/index.js" "$ROOT/logger-wasm/js/encode.js" "$ROOT/logger-wasm/js/protocol.js" \
  "$ROOT/logger-wasm/js/vitals.js" "$STAGE/"
SNIPPET="$(cd "$STAGE" && ls -d snippets/*/js/host.js)"
echo "export * from './$SNIPPET';" > "$STAGE/host.js"
"$ESBUILD" "$STAGE/index.js" --bundle --minify --format=esm --target=es2020 \
  --log-level=warning --outfile="$PKG/index.js"
rm -r "$STAGE"
cp "$ROOT/logger-wasm/js/index.d.ts" "$PKG/"
cp "$ROOT/logger-wasm/js/README.md" "$PKG/README.md"

VERSION="$(awk -F'"' '/^version = / { print $2; exit }' "$ROOT/Cargo.toml")"
cat > "$PKG/package.json" <<JSON
{
  "name": "@tracewire/logger",
  "version": "$VERSION",
  "description": "Tracewire browser logger: batched, deduplicated, offline-safe logging and tracing, in Rust/WebAssembly.",
  "license": "MIT OR Apache-2.0",
  "type": "module",
  "main": "./index.js",
  "module": "./index.js",
  "types": "./index.d.ts",
  "exports": {
    ".": { "types": "./index.d.ts", "import": "./index.js", "default": "./index.js" },
    "./${NAME}_bg.wasm": "./${NAME}_bg.wasm",
    "./package.json": "./package.json"
  },
  "files": ["index.js", "index.d.ts", "${NAME}_bg.wasm", "README.md"],
  "sideEffects": ["./index.js"]
}
JSON

# -n: no file name in the gzip header, as HTTP compression sends it.
gz() { gzip -9 -n -c "$@" | wc -c; }
WASM_GZ="$(gz "$PKG/${NAME}_bg.wasm")"
JS_GZ="$(gz "$PKG/index.js")"
TOTAL_GZ=$((WASM_GZ + JS_GZ))
# The issue's budget: 26,000 B for everything an app downloads (docs/BENCHMARKS.md).
BUDGET="${LOGGER_BUDGET_GZIP:-26000}"
echo "@tracewire/logger $VERSION -> $PKG"
echo "  wasm: $(wc -c < "$PKG/${NAME}_bg.wasm") B raw, $WASM_GZ B gzip -9 -n"
echo "  js:   $(wc -c < "$PKG/index.js") B raw, $JS_GZ B gzip -9 -n (entry + wasm-bindgen glue, bundled and minified)"
echo "  whole package: $TOTAL_GZ B gzip -9 -n (budget $BUDGET B)"
if [ "$TOTAL_GZ" -gt "$BUDGET" ]; then
  echo "build-logger: the package is $TOTAL_GZ B gzip, over its budget of $BUDGET B" >&2
  exit 1
fi
