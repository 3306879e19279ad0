#!/usr/bin/env node
'use strict';
/*
 * solc-shim: present npm's `solc` (solcjs, WebAssembly) as a native `solc` command line.
 *
 * Offline machines cannot download a native solc, but py-solc-x, brownie, forge and slither
 * all drive the compiler through its command line. This executable speaks enough of it:
 *
 *   solc --version
 *   solc --standard-json [--base-path P] [--include-path P]... [--allow-paths ...] < input.json
 *   solc [prefix=target]... FILE... --combined-json abi,bin,... [--optimize] [--optimize-runs N]
 *        [--evm-version V] [--via-ir] [--base-path P] [--include-path P]... [--allow-paths ...]
 *
 * Speed: loading the compiler is the slow part (~0.4 s, mostly decoding the embedded
 * WebAssembly), so it happens at most once per process, `--version` answers from a small cache,
 * and the decoded WebAssembly binary is cached under node_modules/.cache/solc-shim/
 * (set SOLC_SHIM_NO_CACHE=1 to bypass both caches).
 */

const fs = require('fs');
const path = require('path');

const SOLC_DIR = path.dirname(require.resolve('solc/package.json'));
const SOLJSON = path.join(SOLC_DIR, 'soljson.js');
const CACHE_DIR = process.env.SOLC_SHIM_CACHE_DIR ||
  path.join(SOLC_DIR, '..', '.cache', 'solc-shim');
const USE_CACHE = !process.env.SOLC_SHIM_NO_CACHE;

// Flags that take a value; every other unknown flag is treated as a harmless switch.
const VALUE_FLAGS = new Set([
  '--allow-paths', '--base-path', '--include-path', '--combined-json', '--evm-version',
  '--optimize-runs', '--output-dir', '-o', '--libraries', '--metadata-hash', '--revert-strings',
  '--debug-info', '--stop-after', '--json-indent', '--yul-optimizations', '--eof-version',
  '--machine', '--yul-dialect', '--model-checker-contracts', '--model-checker-engine',
  '--model-checker-ext-calls', '--model-checker-invariants', '--model-checker-solvers',
  '--model-checker-targets', '--model-checker-timeout', '--model-checker-bmc-loop-iterations',
]);

// `--combined-json` key -> path into a standard-json contract output.
const COMBINED_KEYS = {
  'abi': ['abi'],
  'asm': ['evm', 'legacyAssembly'],
  'bin': ['evm', 'bytecode', 'object'],
  'bin-runtime': ['evm', 'deployedBytecode', 'object'],
  'devdoc': ['devdoc'],
  'function-debug': ['evm', 'bytecode', 'functionDebugData'],
  'function-debug-runtime': ['evm', 'deployedBytecode', 'functionDebugData'],
  'generated-sources': ['evm', 'bytecode', 'generatedSources'],
  'generated-sources-runtime': ['evm', 'deployedBytecode', 'generatedSources'],
  'hashes': ['evm', 'methodIdentifiers'],
  'metadata': ['metadata'],
  'opcodes': ['evm', 'bytecode', 'opcodes'],
  'srcmap': ['evm', 'bytecode', 'sourceMap'],
  'srcmap-runtime': ['evm', 'deployedBytecode', 'sourceMap'],
  'storage-layout': ['storageLayout'],
  'transient-storage-layout': ['transientStorageLayout'],
  'userdoc': ['userdoc'],
};
// Keys whose native value is a string even when the contract has no code.
const STRING_KEYS = new Set(['bin', 'bin-runtime', 'srcmap', 'srcmap-runtime', 'opcodes', 'metadata']);
// Keys that are not per-contract: `ast` fills `sources`; `compact-format` is the only format.
const EXTRA_COMBINED_KEYS = new Set(['ast', 'compact-format']);

class UsageError extends Error {}

// ---------------------------------------------------------------- arguments

function parseArgs(argv) {
  const opts = {
    mode: null, combinedJson: null, basePath: '', includePaths: [], remappings: [], files: [],
    evmVersion: null, optimize: false, optimizeRuns: null, viaIR: false, pretty: false,
    jsonIndent: null, metadataHash: null, noCborMetadata: false, outputDir: null,
  };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value;
    if (arg.startsWith('--') && arg.includes('=')) {
      value = arg.slice(arg.indexOf('=') + 1);
      arg = arg.slice(0, arg.indexOf('='));
    } else if (VALUE_FLAGS.has(arg)) {
      if (i + 1 >= argv.length) throw new UsageError(`option ${arg} requires a value`);
      value = argv[++i];
    }
    switch (arg) {
      case '--version': case '-v': opts.mode = opts.mode || 'version'; break;
      case '--help': case '-h': opts.mode = opts.mode || 'help'; break;
      case '--license': opts.mode = opts.mode || 'license'; break;
      case '--standard-json': opts.mode = 'standard-json'; break;
      case '--combined-json': opts.mode = 'combined-json'; opts.combinedJson = value; break;
      case '--base-path': opts.basePath = value; break;
      case '--include-path': opts.includePaths.push(value); break;
      case '--allow-paths': break; // the shim reads any file it is asked for
      case '--evm-version': opts.evmVersion = value; break;
      case '--optimize': opts.optimize = true; break;
      case '--optimize-runs': opts.optimizeRuns = Number(value); break;
      case '--via-ir': case '--experimental-via-ir': opts.viaIR = true; break;
      case '--pretty-json': opts.pretty = true; break;
      case '--json-indent': opts.pretty = true; opts.jsonIndent = Number(value); break;
      case '--metadata-hash': opts.metadataHash = value; break;
      case '--no-cbor-metadata': opts.noCborMetadata = true; break;
      case '--output-dir': case '-o': opts.outputDir = value; break;
      default:
        if (arg === '-') opts.files.push('-');
        else if (arg.startsWith('-')) debug(`ignoring option ${arg}`);
        else if (arg.includes('=') && !fs.existsSync(arg)) opts.remappings.push(arg);
        else opts.files.push(arg);
    }
  }
  return opts;
}

function debug(message) {
  if (process.env.SOLC_SHIM_DEBUG) process.stderr.write(`solc-shim: ${message}\n`);
}

// ---------------------------------------------------------------- compiler loading

let compiler = null;

/** Load solcjs once; reuse a cached decoded WebAssembly binary when possible. */
function loadCompiler() {
  if (compiler) return compiler;
  const wrapper = require('solc/wrapper');
  let soljson = null;
  if (USE_CACHE) {
    try {
      soljson = loadSoljsonWithCachedWasm();
    } catch (err) {
      debug(`fast load failed, falling back to require('solc'): ${err.message}`);
    }
  }
  compiler = soljson ? wrapper(soljson) : require('solc');
  return compiler;
}

function soljsonKey() {
  const st = fs.statSync(SOLJSON);
  const pkg = JSON.parse(fs.readFileSync(path.join(SOLC_DIR, 'package.json'), 'utf8'));
  return `${pkg.version}-${st.size}-${Math.floor(st.mtimeMs)}`;
}

function writeAtomic(file, data) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

// soljson.js starts by base64-decoding ~22 MB of WebAssembly, which costs more than compiling
// it. Evaluate the same file with the decoding statement replaced by the cached binary.
function loadSoljsonWithCachedWasm() {
  const source = fs.readFileSync(SOLJSON, 'utf8');
  const head = /^var Module = Module \|\| \{\};\nModule\["wasmBinary"\] = (\(function \(source, uncompressedSize\) \{[\s\S]*?\}\)\("[A-Za-z0-9+/=]+", \d+\));\n/;
  const match = head.exec(source);
  if (!match) throw new Error('unexpected soljson.js layout');
  const wasmFile = path.join(CACHE_DIR, `soljson-${soljsonKey()}.wasm`);
  let binary;
  try {
    binary = fs.readFileSync(wasmFile);
  } catch {
    binary = (0, eval)(match[1]); // the package's own decoder, run once
    try { writeAtomic(wasmFile, binary); } catch (err) { debug(`cannot cache wasm: ${err.message}`); }
  }
  const body = 'var Module = {};\nModule["wasmBinary"] = globalThis.__solcShimWasmBinary;\n' +
    source.slice(match[0].length);
  const Module = module.constructor;
  const mod = new Module(SOLJSON, module);
  mod.filename = SOLJSON;
  mod.paths = Module._nodeModulePaths(SOLC_DIR);
  globalThis.__solcShimWasmBinary = new Uint8Array(binary.buffer, binary.byteOffset, binary.length);
  try {
    mod._compile(body, SOLJSON);
  } finally {
    delete globalThis.__solcShimWasmBinary;
  }
  return mod.exports;
}

/** Long version string, e.g. 0.8.37+commit.f401782d.Emscripten.clang, cached per soljson.js. */
function compilerVersion() {
  const cacheFile = path.join(CACHE_DIR, 'version.json');
  let key = null;
  if (USE_CACHE) {
    try {
      key = soljsonKey();
      const cached = JSON.parse(fs.readFileSync(cacheFile, 'utf8'));
      if (cached.key === key && cached.version) return cached.version;
    } catch { /* no usable cache */ }
  }
  const version = loadCompiler().version();
  if (USE_CACHE && key) {
    try { writeAtomic(cacheFile, JSON.stringify({ key, version })); } catch { /* read-only */ }
  }
  return version;
}

// ---------------------------------------------------------------- file reading

function parseRemapping(text) {
  // Native syntax: [context:]prefix=target
  const eq = text.indexOf('=');
  if (eq < 0) return null;
  let prefix = text.slice(0, eq);
  const colon = prefix.indexOf(':');
  if (colon >= 0) prefix = prefix.slice(colon + 1);
  return { prefix, target: text.slice(eq + 1) };
}

/** The import callback: base path (or cwd), then include paths, then remappings as a fallback. */
function makeReader(opts, extraRemappings) {
  const base = path.resolve(opts.basePath || '.');
  const includes = opts.includePaths.map((p) => path.resolve(p));
  const remaps = [...opts.remappings, ...extraRemappings].map(parseRemapping).filter(Boolean);
  return (sourceUnitName) => {
    const names = [sourceUnitName];
    for (const { prefix, target } of remaps) {
      if (prefix && sourceUnitName.startsWith(prefix)) {
        names.push(target + sourceUnitName.slice(prefix.length));
      }
    }
    const candidates = [];
    for (const name of names) {
      const name0 = name.replace(/^file:\/\//, '');
      if (path.isAbsolute(name0)) candidates.push(name0);
      else for (const root of [base, ...includes]) candidates.push(path.join(root, name0));
    }
    for (const candidate of candidates) {
      try {
        if (fs.statSync(candidate).isFile()) return { contents: fs.readFileSync(candidate, 'utf8') };
      } catch { /* try the next location */ }
    }
    return {
      error: `File not found. Searched the following locations: ${candidates.map((c) => `"${c}"`).join(', ')}.`,
    };
  };
}

/** Source unit name for a path given on the command line (native path normalisation). */
function sourceUnitName(file, opts) {
  const abs = path.resolve(file);
  for (const root of [opts.basePath || '.', ...opts.includePaths].map((p) => path.resolve(p))) {
    const rel = path.relative(root, abs);
    if (rel && !rel.startsWith('..') && !path.isAbsolute(rel)) return rel.split(path.sep).join('/');
  }
  return abs;
}

// ---------------------------------------------------------------- modes

function stringify(value, opts) {
  return opts.pretty ? JSON.stringify(value, null, opts.jsonIndent ?? 2) : JSON.stringify(value);
}

function standardJson(opts) {
  const raw = fs.readFileSync(0, 'utf8');
  let input;
  try {
    input = JSON.parse(raw);
  } catch (err) {
    return emitJsonError(`Error parsing input JSON: ${err.message}`, opts);
  }
  const remappings = (input && input.settings && input.settings.remappings) || [];
  const output = loadCompiler().compile(JSON.stringify(input), { import: makeReader(opts, remappings) });
  process.stdout.write(opts.pretty ? stringify(JSON.parse(output), opts) : output);
  process.stdout.write('\n');
  return 0;
}

function emitJsonError(message, opts) {
  const error = { component: 'general', formattedMessage: message, message, severity: 'error', type: 'JSONError' };
  process.stdout.write(`${stringify({ errors: [error] }, opts)}\n`);
  return 0;
}

function dig(object, keys) {
  let value = object;
  for (const key of keys) {
    if (value === undefined || value === null) return undefined;
    value = value[key];
  }
  return value;
}

function combinedJson(opts) {
  const requested = opts.combinedJson.split(',').map((k) => k.trim()).filter(Boolean);
  for (const key of requested) {
    if (!(key in COMBINED_KEYS) && !EXTRA_COMBINED_KEYS.has(key)) {
      throw new UsageError(`Invalid option to --combined-json: ${key}`);
    }
  }
  if (opts.files.length === 0) throw new UsageError('No input files given.');
  const sources = {};
  for (const file of opts.files) {
    if (file === '-') {
      sources['<stdin>'] = { content: fs.readFileSync(0, 'utf8') };
      continue;
    }
    if (!fs.existsSync(file)) throw new UsageError(`"${file}" is not found.`);
    sources[sourceUnitName(file, opts)] = { content: fs.readFileSync(file, 'utf8') };
  }
  const outputs = [...new Set(requested.filter((k) => k in COMBINED_KEYS).map((k) => COMBINED_KEYS[k].join('.')))];
  const settings = {
    optimizer: { enabled: opts.optimize, runs: Number.isFinite(opts.optimizeRuns) ? opts.optimizeRuns : 200 },
    remappings: opts.remappings,
    outputSelection: { '*': { '*': outputs, '': requested.includes('ast') ? ['ast'] : [] } },
  };
  if (opts.evmVersion) settings.evmVersion = opts.evmVersion;
  if (opts.viaIR) settings.viaIR = true;
  if (opts.metadataHash || opts.noCborMetadata) {
    settings.metadata = {};
    if (opts.metadataHash) settings.metadata.bytecodeHash = opts.metadataHash;
    if (opts.noCborMetadata) settings.metadata.appendCBOR = false;
  }
  const input = { language: 'Solidity', sources, settings };
  const output = JSON.parse(loadCompiler().compile(JSON.stringify(input), { import: makeReader(opts, []) }));

  let failed = false;
  for (const error of output.errors || []) {
    process.stderr.write(`${error.formattedMessage || error.message}\n`);
    if (error.severity === 'error') failed = true;
  }
  if (failed) return 1;

  const result = { contracts: {} };
  for (const [file, contracts] of Object.entries(output.contracts || {})) {
    for (const [name, data] of Object.entries(contracts)) {
      const entry = {};
      for (const key of requested.filter((k) => k in COMBINED_KEYS).sort()) {
        let value = dig(data, COMBINED_KEYS[key]);
        if (value === undefined || value === null) value = STRING_KEYS.has(key) ? '' : null;
        entry[key] = value;
      }
      result.contracts[`${file}:${name}`] = entry;
    }
  }
  const sourceNames = Object.keys(output.sources || {})
    .sort((a, b) => output.sources[a].id - output.sources[b].id);
  if (requested.some((k) => ['ast', 'srcmap', 'srcmap-runtime'].includes(k))) {
    result.sourceList = sourceNames;
  }
  if (requested.includes('ast')) {
    result.sources = {};
    for (const name of sourceNames) {
      result.sources[name] = { AST: output.sources[name].ast, id: output.sources[name].id };
    }
  }
  result.version = loadCompiler().version();
  process.stdout.write(`${stringify(result, opts)}\n`);
  return 0;
}

const HELP = `solc-shim: npm solc (solcjs) behind a native solc command line.

Usage:
  solc --version
  solc --standard-json [--base-path P] [--include-path P]... < input.json
  solc [prefix=target]... FILE... --combined-json abi,bin,bin-runtime,srcmap,... \\
       [--optimize] [--optimize-runs N] [--evm-version V] [--via-ir] [--base-path P]

Other native options are accepted and ignored.
`;

function main(argv) {
  const opts = parseArgs(argv);
  if (opts.outputDir) throw new UsageError('--output-dir is not supported by solc-shim; read stdout');
  switch (opts.mode) {
    case 'version':
      process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${compilerVersion()}\n`);
      return 0;
    case 'help':
      process.stdout.write(HELP);
      return 0;
    case 'license':
      process.stdout.write(`${loadCompiler().license()}\n`);
      return 0;
    case 'standard-json':
      return standardJson(opts);
    case 'combined-json':
      return combinedJson(opts);
    default:
      throw new UsageError('only --version, --standard-json and --combined-json are supported (see --help)');
  }
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (err) {
  process.stderr.write(err instanceof UsageError ? `Error: ${err.message}\n` : `${err.stack || err}\n`);
  process.exitCode = err instanceof UsageError ? 1 : 2;
}
