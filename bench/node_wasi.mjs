// node_wasi.mjs: runs a wasm32-wasi command module under node's V8 with
// node:wasi (preview1), the way `faaslet run` does: args after the module
// become argv[1..], stdout/stderr are the process's, the exit code is _start's.
// Usage: node --no-warnings bench/node_wasi.mjs module.wasm [args...]
import { readFile } from 'node:fs/promises';
import { WASI } from 'node:wasi';
import { argv, env, exit } from 'node:process';

if (argv.length < 3) {
  console.error('usage: node_wasi.mjs module.wasm [args...]');
  exit(2);
}
const path = argv[2];
const wasi = new WASI({
  version: 'preview1',
  args: [path, ...argv.slice(3)],
  env: {},
  returnOnExit: true,
});
const module = await WebAssembly.compile(await readFile(path));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
exit(wasi.start(instance));
