#!/usr/bin/env bash
# Builds the browser logger into the npm package logger-wasm/pkg (@tracewire/logger):
# wasm32 build in the size profile, wasm-snip of the panic machinery, wasm-bindgen --target
# web, wasm-opt -Oz --converge, then once more after --flatten --rereloop (binaryen 132 from
# npm, never Debian's 108 which breaks wasm-bindgen output), minified import/export names,
# the hand-written JS entry (with js/host.js and js/encode.js) bundled
# with wasm-bindgen's glue into one minified index.js (esbuild), types, package.json and
# README; then prints the gzip size of wasm + JS.
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
wasm-bindgen --target web --no-typescript --out-dir "$PKG" "$PKG/.snip/$NAME.wasm"
rm -rf "$PKG/.snip"
"$WASM_OPT" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-reference-types --enable-mutable-globals \
  --strip-producers --strip-target-features \
  --converge --flatten --rereloop -Oz --converge --strip-debug "$PKG/${NAME}_bg.wasm" -o "$PKG/${NAME}_bg.opt.wasm"
mv "$PKG/${NAME}_bg.opt.wasm" "$PKG/${NAME}_bg.wasm"
# Import and export names cross into both files: wasm-bindgen's carry hashes
# (`__wbg_hostGet_b9932a4ebf048c26`) and `__wbindgen_malloc` appears all over the glue. binaryen
# renames them to one or two letters and prints the mapping; the glue is rewritten to match.
"$WASM_OPT" --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-reference-types --enable-mutable-globals --enable-multivalue \
  --minify-imports-and-exports-and-modules "$PKG/${NAME}_bg.wasm" -o "$PKG/${NAME}_bg.opt.wasm" \
  > "$PKG/names.json"
mv "$PKG/${NAME}_bg.opt.wasm" "$PKG/${NAME}_bg.wasm"
node - "$PKG/names.json" "$PKG/${NAME}.js" <<'JS'
const fs = require('fs');
const [mapFile, glueFile] = process.argv.slice(2);
const map = JSON.parse(fs.readFileSync(mapFile, 'utf8'));
let js = fs.readFileSync(glueFile, 'utf8');
const fail = (msg) => { console.error(`build-logger: ${msg}`); process.exit(1); };
// Every export the glue uses is read as `wasm.<name>`; exports it never reads stay unused.
for (const [from, to] of map.exports) js = js.replace(new RegExp(`\\bwasm\\.${from}\\b`, 'g'), `wasm.${to}`);
const modules = new Set(map.imports.map(([module]) => module));
if (modules.size !== 1) fail(`expected one import module, found ${[...modules].join(', ')}`);
for (const [, from, to] of map.imports) {
  const before = js;
  js = js.replace(new RegExp(`\\b${from}: function`), `${to}: function`);
  if (js === before) fail(`import ${from} not found in the glue`);
}
const before = js;
js = js.replace(`"${[...modules][0]}": import0`, '"a": import0');
if (js === before) fail('import module not found in the glue');
fs.writeFileSync(glueFile, js);
JS
rm "$PKG/names.json"
# One ES module: the entry and the glue it imports, minified. esbuild keeps
# `new URL('…_bg.wasm', import.meta.url)` as written, so bundlers (Vite) still find the wasm.
cp "$ROOT/logger-wasm/js/index.js" "$PKG/entry.src.js"
cp "$ROOT/logger-wasm/js/encode.js" "$PKG/"
# The module imports its storage functions from js/host.js, which wasm-bindgen copied under
# snippets/; the entry imports the driver from the same file, so both share one instance.
HOST_SNIPPET="$(cd "$PKG" && ls snippets/*/js/host.js)"
echo "export * from './$HOST_SNIPPET';" > "$PKG/host.js"
"$ESBUILD" "$PKG/entry.src.js" --bundle --minify --format=esm --target=es2020 \
  --log-level=warning --outfile="$PKG/index.js"
rm -r "$PKG/entry.src.js" "$PKG/host.js" "$PKG/encode.js" "$PKG/${NAME}.js" "$PKG/snippets"
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

gz() { gzip -9 -c "$@" | wc -c; }
WASM_GZ="$(gz "$PKG/${NAME}_bg.wasm")"
JS_GZ="$(gz "$PKG/index.js")"
echo "@tracewire/logger $VERSION -> $PKG"
echo "  wasm: $(wc -c < "$PKG/${NAME}_bg.wasm") B raw, $WASM_GZ B gzip -9"
echo "  js:   $(wc -c < "$PKG/index.js") B raw, $JS_GZ B gzip -9 (entry + wasm-bindgen glue, bundled and minified)"
echo "  total gzip: $((WASM_GZ + JS_GZ)) B"
