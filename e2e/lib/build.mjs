// Builds everything the end-to-end suite runs, once per `npm run e2e`: the collector and demo
// binaries (debug, honouring CARGO_TARGET_DIR), the @tracewire/logger package, packed to
// logger-wasm/pkg/tracewire-logger.tgz and installed into e2e/demo with npm — exactly what
// scripts/run-demo.sh does before it starts the demo, so the page loads the logger a user
// would get from the registry.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DEMO_DIR, INSTALLED_TARBALL, LOGGER_PKG, LOGGER_TARBALL, ROOT } from './paths.mjs';

function run(cmd, args, cwd = ROOT) {
  console.log(`e2e build: ${cmd} ${args.join(' ')}${cwd === ROOT ? '' : ` (in ${path.relative(ROOT, cwd)})`}`);
  return execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
}

const started = Date.now();
run('cargo', ['build', '-q', '-p', 'tracewire-server', '--bin', 'tracewire',
  '-p', 'tracewire-demo', '--bin', 'tracewire-demo']);
process.stdout.write(run(path.join(ROOT, 'scripts', 'build-logger.sh'), []));

fs.rmSync(LOGGER_TARBALL, { force: true });
const packed = run('npm', ['pack', '--silent'], LOGGER_PKG).trim().split('\n').pop();
fs.renameSync(path.join(LOGGER_PKG, packed), LOGGER_TARBALL);
fs.rmSync(path.join(DEMO_DIR, 'node_modules', '@tracewire', 'logger'), { recursive: true, force: true });
run('npm', ['install', '--no-audit', '--no-fund', '--no-package-lock', '--silent'], DEMO_DIR);
fs.mkdirSync(path.dirname(INSTALLED_TARBALL), { recursive: true });
fs.copyFileSync(LOGGER_TARBALL, INSTALLED_TARBALL);
console.log(`e2e build: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
