// Used by scripts/build-logger.sh after wasm-opt has minified the module's import and export
// names. The package ships a hand-written loader (logger-wasm/js/wasm.js) instead of the JS
// glue wasm-bindgen generates, so nothing else notices when wasm-bindgen changes its ABI:
//
// 1. Check. The parts of the generated glue that carry the ABI (the import line, the exported
//    functions, the imports object, what runs after instantiation) and the import/export
//    signatures of the shipped module, with their names mapped back, must equal
//    logger-wasm/js/wasm-abi.txt, the ABI wasm.js was written against. Otherwise this writes
//    what it found to <actual>, prints the diff and exits 1.
// 2. Rename. Writes wasm.js to <loader-out> with every `wasm.<export>` access, every import
//    name (wasm-bindgen's, without its hash) and the import module renamed to the minified
//    names; exits 1 when one is missing or unknown.
//
// usage: node logger-abi.mjs <glue.js> <names.json> <module.wasm> <wasm-abi.txt> <wasm.js>
//                            <loader-out> <actual>
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const args = process.argv.slice(2);
if (args.length !== 7) fail('usage: see the top of scripts/logger-abi.mjs');
const [glueFile, namesFile, wasmFile, abiFile, loaderFile, loaderOut, actualOut] = args;

function fail(msg) {
  console.error(`build-logger: ${msg}`);
  process.exit(1);
}

/** wasm-bindgen's hashes (import names, snippet directory) change with any rebuild. */
const unhash = (s) => s.replace(/([_-])[0-9a-f]{16}\b/g, '$1*');

/** The glue's import lines, exported functions and the two internal ones with ABI, trimmed. */
function glueAbi(js) {
  const wanted = new Set(['__wbg_get_imports', '__wbg_finalize_init']);
  const out = [];
  let block = null;
  for (const line of js.split('\n')) {
    if (block) {
      block.push(line);
      if (line === '}') { out.push(...block); block = null; }
      continue;
    }
    const fn = /^(export )?(?:async )?function (\w+)\(/.exec(line);
    if (line.startsWith('import ')) out.push(line);
    else if (fn && (fn[1] || wanted.has(fn[2]))) block = [line];
  }
  return out.map((l) => unhash(l.trim())).filter((l) => l !== '');
}

/** The module's imports and exports with their types, one per line, names mapped back. */
function moduleAbi(bytes, renameImport, renameExport) {
  let at = 0;
  const byte = () => {
    if (at >= bytes.length) fail(`${wasmFile}: truncated`);
    return bytes[at++];
  };
  const uleb = () => {
    let n = 0;
    for (let shift = 0; ; shift += 7) {
      const b = byte();
      n += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return n;
    }
  };
  const name = () => {
    const len = uleb();
    at += len;
    return bytes.subarray(at - len, at).toString('utf8');
  };
  const valTypes = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128', 0x70: 'funcref', 0x6f: 'externref' };
  const valType = () => {
    const b = byte();
    if (!(b in valTypes)) fail(`${wasmFile}: unsupported value type 0x${b.toString(16)}`);
    return valTypes[b];
  };
  const vec = (f) => Array.from({ length: uleb() }, f);
  const limits = () => {
    const flags = byte();
    const min = uleb();
    return flags & 1 ? `${min} ${uleb()}` : `${min}`;
  };

  if (bytes.readUInt32LE(0) !== 0x6d736100 || bytes.readUInt32LE(4) !== 1) fail(`${wasmFile}: not a wasm module`);
  at = 8;
  const types = [];
  const funcs = []; // type index of every function, imported ones first
  const tables = [];
  const lines = [];
  const exports = [];
  while (at < bytes.length) {
    const id = byte();
    const size = uleb();
    const end = at + size;
    if (id === 1) {
      for (let n = uleb(); n--;) {
        if (byte() !== 0x60) fail(`${wasmFile}: unsupported type (not a plain function type)`);
        types.push(`(${vec(valType).join(' ')}) -> (${vec(valType).join(' ')})`);
      }
    } else if (id === 2) {
      for (let n = uleb(); n--;) {
        const [module, field] = renameImport(name(), name());
        const kind = byte();
        let desc;
        if (kind === 0) { const t = uleb(); funcs.push(t); desc = `func ${types[t]}`; }
        else if (kind === 1) { const t = valType(); tables.push(t); desc = `table ${t} ${limits()}`; }
        else if (kind === 2) desc = `memory ${limits()}`;
        else if (kind === 3) desc = `global ${valType()}${byte() ? ' mut' : ''}`;
        else fail(`${wasmFile}: unsupported import kind ${kind}`);
        lines.push(`import ${JSON.stringify(module)} ${JSON.stringify(field)} ${desc}`);
      }
    } else if (id === 3) {
      funcs.push(...vec(uleb));
    } else if (id === 4) {
      tables.push(...vec(() => { const t = valType(); limits(); return t; }));
    } else if (id === 7) {
      exports.push(...vec(() => [name(), byte(), uleb()]));
    }
    at = end;
  }
  const kinds = ['func', 'table', 'memory', 'global', 'tag'];
  for (const [field, kind, index] of exports) {
    const desc = kind === 0 ? `func ${types[funcs[index]]}` : kind === 1 ? `table ${tables[index]}` : kinds[kind];
    lines.push(`export ${JSON.stringify(renameExport(field))} ${desc}`);
  }
  return lines.map(unhash).sort();
}

const names = JSON.parse(readFileSync(namesFile, 'utf8'));
const modules = new Set(names.imports.map(([module]) => module));
if (modules.size !== 1) fail(`expected one import module, found ${[...modules].join(', ') || 'none'}`);
const [glueModule] = modules;
const importFrom = new Map(names.imports.map(([, from, to]) => [to, from]));
const exportFrom = new Map(names.exports.map(([from, to]) => [to, from]));
let minModule = null;
const renameImport = (mod, field) => {
  if (minModule !== null && mod !== minModule) fail(`${wasmFile}: imports from two modules`);
  minModule = mod;
  if (!importFrom.has(field)) fail(`${wasmFile}: import ${field} is not in wasm-opt's names`);
  return [glueModule, importFrom.get(field)];
};
const renameExport = (field) => {
  if (!exportFrom.has(field)) fail(`${wasmFile}: export ${field} is not in wasm-opt's names`);
  return exportFrom.get(field);
};

// 1. Check.
const actual = [
  '[module]', ...moduleAbi(readFileSync(wasmFile), renameImport, renameExport),
  '[glue]', ...glueAbi(readFileSync(glueFile, 'utf8')),
];
const abiText = readFileSync(abiFile, 'utf8');
const header = abiText.split('\n').filter((l) => l.startsWith('#'));
const expected = abiText.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
if (actual.join('\n') !== expected.join('\n')) {
  writeFileSync(actualOut, [...header, ...actual, ''].join('\n'));
  try { execFileSync('diff', ['-u', abiFile, actualOut], { stdio: 'inherit' }); } catch (_) { /* differs */ }
  fail(`wasm-bindgen's output no longer matches ${abiFile} (diff above), the ABI `
    + `logger-wasm/js/wasm.js implements. Adapt wasm.js to the glue wasm-bindgen now generates, `
    + `then copy ${actualOut} over ${abiFile}.`);
}

// 2. Rename.
let js = readFileSync(loaderFile, 'utf8');
const exportTo = new Map(names.exports);
js = js.replace(/\bwasm\.(\w+)/g, (_, field) => {
  if (!exportTo.has(field)) fail(`${loaderFile} reads wasm.${field}, which the module does not export`);
  return `wasm.${exportTo.get(field)}`;
});
for (const [, from, to] of names.imports) {
  const key = new RegExp(`\\b${from.replace(/_[0-9a-f]{16}$/, '')}\\b`, 'g');
  const found = (js.match(key) || []).length;
  if (found !== 1) fail(`${loaderFile} names import ${from} (without the hash) ${found} times, not once`);
  js = js.replace(key, to);
}
const quoted = `'${glueModule}'`;
if (js.split(quoted).length !== 2) fail(`${loaderFile} must name the import module ${quoted} once`);
js = js.replace(quoted, JSON.stringify(minModule));
writeFileSync(loaderOut, js);
