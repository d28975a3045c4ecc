// run_mock.mjs FUNCS_DIR: runs some guest functions under node with a tiny
// in-memory stand-in for the Faaslet host (input/output, chaining by name and
// pointer, await), to prove libfaasm and faaslet's start code behave as
// docs/GUEST-API.md says: _faasm_init, _faasm_zygote, _start, _faasm_call_ptr.
// It is not the runtime: snapshots are emulated by fresh instances.
import { readFileSync } from 'node:fs';
import { WASI } from 'node:wasi';

const dir = process.argv[2];
const modules = new Map();
const calls = new Map(); // call id -> { ret, output }
let nextId = 1;
const dec = new TextDecoder();

function load(name) {
  if (!modules.has(name)) {
    modules.set(name, new WebAssembly.Module(readFileSync(`${dir}/${name}.wasm`)));
  }
  return modules.get(name);
}

// Runs one call: fresh instance, _faasm_init + zygote, then _start or ptr.
function run(name, input, tableIndex = null) {
  const call = { input: Buffer.from(input), output: Buffer.alloc(0), ret: 0 };
  const wasi = new WASI({ version: 'preview1', args: [name], returnOnExit: true });
  let mem;
  const bytes = (p, n) => new Uint8Array(mem.buffer, p, n);
  const str = (p) => { const b = new Uint8Array(mem.buffer); let e = p; while (b[e]) e++; return dec.decode(b.subarray(p, e)); };
  const env = {
    __faasm_read_input: (buf, len) => {
      if (len === 0) return call.input.length;
      const n = Math.min(len, call.input.length);
      bytes(buf, n).set(call.input.subarray(0, n));
      return n;
    },
    __faasm_write_output: (buf, len) => { call.output = Buffer.from(bytes(buf, len)); },
    __faasm_chain_name: (n, buf, len) => {
      const id = nextId++;
      let res;
      try { res = run(str(n), Buffer.from(bytes(buf, len))); } catch (e) { res = { ret: 1, output: Buffer.from(String(e)) }; }
      calls.set(id, res);
      return id;
    },
    __faasm_chain_ptr: (idx, buf, len) => {
      const id = nextId++;
      calls.set(id, run(name, Buffer.from(bytes(buf, len)), idx));
      return id;
    },
    __faasm_await_call: (id) => (calls.has(id) ? calls.get(id).ret : -1),
    __faasm_await_call_output: (id, buf, len) => {
      if (!calls.has(id)) return -1;
      const c = calls.get(id);
      const n = Math.min(len, c.output.length);
      bytes(buf, n).set(c.output.subarray(0, n));
      return c.ret;
    },
  };
  const imports = { wasi_snapshot_preview1: wasi.wasiImport, env: new Proxy(env, {
    get: (t, k) => t[k] ?? (() => { throw new Error(`mock host lacks ${String(k)}`); }) }) };
  const instance = new WebAssembly.Instance(load(name), imports);
  mem = instance.exports.memory;
  const x = instance.exports;
  x._faasm_init();
  if (x._faasm_zygote && x._faasm_zygote() !== 0) throw new Error('zygote failed');
  if (tableIndex === null) {
    call.ret = wasi.start(instance) ?? 0;
  } else {
    wasi.initialize({ exports: { memory: mem } });
    call.ret = x._faasm_call_ptr(tableIndex);
  }
  return call;
}

const cases = [
  ['echo', 'abc', 'abc', 0],
  ['input_size', 'hello world', '11 he', 0],
  ['chain_named', 'ping', 'chained:ping', 0],
  ['chain_ptr', '21', '42', 0],
  ['chain_nested', '3', '6', 0],
  ['chain_batch', '', 'ok=0 bad=1', 0],
  ['chain_missing', '', 'missing failed', 0],
  ['zygote', '', 'zygote=42 calls=1 table=ready', 0],
  ['counter', '', '1', 0],
  ['hello_cpp', 'abc', 'cba|3|10', 0],
  ['chain_cpp', '', 'echo:hi child:7', 0],
];
let failed = 0;
for (const [name, input, want, wantRet] of cases) {
  let got;
  try { got = run(name, input); } catch (e) { got = { ret: `exception ${e}`, output: Buffer.alloc(0) }; }
  const out = got.output.toString();
  const ok = out === want && got.ret === wantRet;
  if (!ok) failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}(${JSON.stringify(input)}) -> ${JSON.stringify(out)} ret ${got.ret}` +
    (ok ? '' : `; want ${JSON.stringify(want)} ret ${wantRet}`));
}
process.exit(failed ? 1 : 0);
