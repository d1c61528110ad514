// Where the end-to-end suite finds the workspace, the built binaries and the packed logger.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (two levels above this file). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Cargo's target directory: `CARGO_TARGET_DIR` (relative to the root) or `target/`. */
export const TARGET_DIR = path.resolve(ROOT, process.env.CARGO_TARGET_DIR || 'target');
/** The collector binary. */
export const COLLECTOR_BIN = path.join(TARGET_DIR, 'debug', 'tracewire');
/** The demo shop backend binary. */
export const DEMO_BIN = path.join(TARGET_DIR, 'debug', 'tracewire-demo');
/** The demo shop directory; its node_modules hold the logger installed from the tarball. */
export const DEMO_DIR = path.join(ROOT, 'e2e', 'demo');
/** The logger package as `scripts/build-logger.sh` writes it. */
export const LOGGER_PKG = path.join(ROOT, 'logger-wasm', 'pkg');
/** The packed logger, installed into the demo as a `file:` dependency. */
export const LOGGER_TARBALL = path.join(LOGGER_PKG, 'tracewire-logger.tgz');
/** A copy of the tarball the build step installed, kept in case logger-wasm/pkg is rebuilt. */
export const INSTALLED_TARBALL = path.join(ROOT, 'e2e', '.artifacts', 'tracewire-logger.tgz');
/** The test page: the demo's backend serves it instead of the shop page (`--public-dir`). */
export const TEST_PAGE_DIR = path.join(ROOT, 'e2e', 'fixtures', 'page');
/** The shop page itself. */
export const SHOP_PAGE_DIR = path.join(DEMO_DIR, 'public');
