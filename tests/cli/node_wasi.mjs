// node_wasi.mjs: runs a WASI command under node's node:wasi (preview1) with
// the same options as `faaslet run`, for differential tests.
// usage: node --no-warnings node_wasi.mjs [--dir HOST[::GUEST]]... [--env K=V]... FILE.wasm [ARGS...]
import { readFileSync } from 'node:fs';
import { WASI } from 'node:wasi';

const argv = process.argv.slice(2);
const preopens = {};
const env = {};
let i = 0;
for (; i < argv.length; i++) {
  if (argv[i] === '--dir') {
    const [host, guest] = argv[++i].split('::');
    preopens[guest ?? host] = host;
  } else if (argv[i] === '--env') {
    const kv = argv[++i];
    const eq = kv.indexOf('=');
    env[kv.slice(0, eq)] = kv.slice(eq + 1);
  } else {
    break;
  }
}
const file = argv[i];
const wasi = new WASI({ version: 'preview1', args: argv.slice(i), env, preopens, returnOnExit: true });
const module = await WebAssembly.compile(readFileSync(file));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
let code;
try {
  code = wasi.start(instance);
} catch (e) {
  process.stderr.write(`node: trap: ${e.message}\n`);
  code = 134;
}
process.exitCode = code;
