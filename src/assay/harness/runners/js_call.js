// assay's JavaScript call-suite runner, run inside the sandbox by node.
//
// It reads solution.js and cases.json (name -> args) from the work dir and calls the
// problem's entry point once per case. The cases run in a worker thread, each in a fresh vm
// context where the solution's top level has just run, with the case's time limit on both
// (the vm timeout stops synchronous loops). The main thread only reports: when a case
// outlives its limit anyway (an async loop), crashes the worker or calls process.exit(),
// the worker is stopped and a new one takes the cases not yet run.
//
// Each case's return value is reported in a canonical JSON form (see canonical()) and
// compared with the expected one outside the sandbox, by the harness's grade(): the
// expected values never enter the sandbox.
'use strict';
const fs = require('fs');
const vm = require('vm');
const { Worker, isMainThread, parentPort, workerData } = require('worker_threads');

const RAW_PREFIX = 'assay-raw:'; // the harness's grade() reads the JSON after it
const MESSAGE_LIMIT = 2000;
const RETURN_LIMIT = 1 << 20; // bytes of JSON a return value may take
const GRACE_MS = 500; // past the vm timeout, before the worker is stopped
const MAX_DEPTH = 200;

function short(text) {
  return text.length <= MESSAGE_LIMIT ? text : `${text.slice(0, MESSAGE_LIMIT)}...`;
}

// -- the canonical form of a return value ---------------------------------------------------

const NODE_LIMIT = 1000000; // values in one return value (shared references count each time)
let budget = NODE_LIMIT;

class TooLarge extends Error {}

// A Map key as the JSON object key it becomes: strings as they are, others as JSON text.
function keyText(key, depth) {
  return typeof key === 'string' ? key : JSON.stringify(canonical(key, depth));
}

// JSON for a returned value: undefined is null, NaN and infinities
// {"$float": "nan" | "inf" | "-inf"}, BigInts {"$int": hex}, Sets {"$set": [...]}, Maps and
// objects JSON objects (keys as strings), typed arrays lists, anything with toJSON (Date)
// what it gives, functions and symbols {"$repr": ..., "$type": ...}.
function canonical(value, depth) {
  if (depth > MAX_DEPTH) return { $repr: '...', $type: 'too deeply nested' };
  budget -= 1;
  if (budget < 0) {
    throw new TooLarge(`the return value is too large to report (over ${NODE_LIMIT} values)`);
  }
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'boolean':
    case 'string':
      return value;
    case 'number':
      if (Number.isNaN(value)) return { $float: 'nan' };
      if (!Number.isFinite(value)) return { $float: value > 0 ? 'inf' : '-inf' };
      return Object.is(value, -0) ? 0 : value;
    case 'bigint':
      return { $int: (value < 0n ? '-0x' : '0x') + (value < 0n ? -value : value).toString(16) };
    case 'function':
      return { $repr: `[Function ${value.name || 'anonymous'}]`, $type: 'function' };
    case 'symbol':
      return { $repr: String(value), $type: 'symbol' };
    default:
      break;
  }
  const tag = Object.prototype.toString.call(value);
  const next = depth + 1;
  if (Array.isArray(value) || (ArrayBuffer.isView(value) && tag !== '[object DataView]')) {
    return Array.from(value, (item) => canonical(item, next));
  }
  if (tag === '[object Set]') return { $set: Array.from(value, (item) => canonical(item, next)) };
  if (tag === '[object Map]') {
    const out = {};
    for (const [key, item] of value) out[keyText(key, next)] = canonical(item, next);
    return out;
  }
  if (typeof value.toJSON === 'function') {
    try {
      return canonical(value.toJSON(), next);
    } catch (error) {
      return { $repr: String(error), $type: 'toJSON failed' };
    }
  }
  const out = {};
  for (const key of Object.keys(value)) out[key] = canonical(value[key], next);
  return out;
}

// -- the worker: one fresh context per case -------------------------------------------------

function describe(error) {
  if (error === null || typeof error !== 'object') {
    return short(`threw ${typeof error === 'string' ? JSON.stringify(error) : String(error)}`);
  }
  const stack = String(error.stack || '');
  const line = /solution\.js:(\d+)/.exec(stack);
  const where = line ? ` (solution.js:${line[1]})` : '';
  return short(`${error.name || 'Error'}: ${error.message ?? ''}${where}`);
}

function isTimeout(error) {
  return error !== null && typeof error === 'object' && error.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT';
}

function newContext() {
  const module = { exports: {} };
  const context = vm.createContext({
    console, require, module, exports: module.exports, process, Buffer, URL,
    URLSearchParams, TextEncoder, TextDecoder, structuredClone, queueMicrotask, performance,
    setTimeout, setInterval, setImmediate, clearTimeout, clearInterval, clearImmediate,
    __filename: `${process.cwd()}/solution.js`, __dirname: process.cwd(),
  });
  context.global = context;
  return context;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function lookup(context, name) {
  if (!IDENTIFIER.test(name)) return undefined;
  const found = vm.runInContext(`typeof ${name} === 'undefined' ? undefined : ${name}`, context);
  if (found !== undefined) return found;
  const exported = context.module.exports;
  if (exported && typeof exported === 'object' && Object.hasOwn(exported, name)) {
    return exported[name];
  }
  return undefined;
}

// The function to test: a top-level function or binding, an export, `Class.method` or a
// method of `Solution` (LeetCode style) on a fresh instance.
function resolve(context, entry) {
  const dot = entry.indexOf('.');
  if (dot > 0) {
    const owner = lookup(context, entry.slice(0, dot));
    if (typeof owner === 'function') {
      const instance = new owner();
      const method = instance[entry.slice(dot + 1)];
      if (typeof method === 'function') return method.bind(instance);
    }
  }
  const found = lookup(context, entry);
  if (typeof found === 'function') return found;
  const solution = lookup(context, 'Solution');
  if (typeof solution === 'function' && typeof solution.prototype?.[entry] === 'function') {
    const instance = new solution();
    return instance[entry].bind(instance);
  }
  if (typeof context.module.exports === 'function') return context.module.exports;
  throw new LookupError(`the solution does not define a function ${JSON.stringify(entry)}`);
}

class LookupError extends Error {}

function withDeadline(promise, ms) {
  let timer;
  const expired = new Promise((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error('timeout'),
      { code: 'ERR_SCRIPT_EXECUTION_TIMEOUT' })), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

async function runCase(script, call, job, name) {
  const deadline = Date.now() + job.timeoutMs;
  const context = newContext();
  try {
    script.runInContext(context, { timeout: job.timeoutMs });
  } catch (error) {
    if (isTimeout(error)) return { timeout: 'load' };
    return { error: `the solution failed to load: ${describe(error)}` };
  }
  const { args, kwargs } = job.cases.get(name);
  if (kwargs && Object.keys(kwargs).length) {
    return { error: 'keyword arguments (kwargs) cannot be passed to a JavaScript function' };
  }
  let value;
  try {
    context.__assay_function = resolve(context, job.entry);
    // Parsed in the solution's own realm, so that `instanceof Array` holds there.
    context.__assay_args = vm.runInContext('JSON', context).parse(JSON.stringify(args));
    value = call.runInContext(context, { timeout: Math.max(1, deadline - Date.now()) });
    if (value !== null && typeof value === 'object' && typeof value.then === 'function') {
      value = await withDeadline(Promise.resolve(value), Math.max(1, deadline - Date.now()));
    }
  } catch (error) {
    if (isTimeout(error)) return { timeout: 'call' };
    if (error instanceof LookupError) return { error: error.message };
    return { error: describe(error) };
  }
  let text;
  try {
    budget = NODE_LIMIT;
    text = JSON.stringify({ returned: canonical(value, 0) });
  } catch (error) {
    if (error instanceof TooLarge) return { error: error.message };
    return { error: `the return value cannot be reported: ${describe(error)}` };
  }
  if (text.length > RETURN_LIMIT) {
    return { error: `the return value is too large to report (${text.length} bytes of JSON; ` +
                    `the limit is ${RETURN_LIMIT})` };
  }
  return { returned: text };
}

async function workerMain() {
  const job = workerData;
  const script = new vm.Script(job.source, { filename: 'solution.js' });
  const call = new vm.Script('__assay_function(...__assay_args)', { filename: 'assay-call' });
  for (const name of job.names) {
    parentPort.postMessage({ start: name });
    parentPort.postMessage({ result: name, ...(await runCase(script, call, job, name)) });
  }
}

// -- the main thread: reports, and restarts the worker when it must -------------------------

function mainThread() {
  const reportFd = Number(process.env.ASSAY_REPORT_FD);
  delete process.env.ASSAY_REPORT_FD;
  const emit = (event) => fs.writeSync(reportFd, `${JSON.stringify(event)}\n`);
  const timeoutS = Number(process.env.ASSAY_TEST_TIMEOUT || '5');
  const entry = process.env.ASSAY_ENTRY_POINT || '';
  const cases = JSON.parse(fs.readFileSync('cases.json', 'utf8'));
  if (!cases.length) return emit({ fatal: 'the suite has no test cases' });
  if (!entry) {
    return emit({ fatal: 'a call suite needs the problem\'s entry_point (the function to call)' });
  }
  emit({ collect: cases.map((c) => c.name) });
  const only = new Set(process.argv.slice(2));
  const names = cases.map((c) => c.name).filter((n) => only.size === 0 || only.has(n));
  const source = fs.readFileSync('solution.js', 'utf8');
  try {
    new vm.Script(source, { filename: 'solution.js' });
  } catch (error) {
    const message = short(`the solution does not compile: ${describe(error)}`);
    for (const name of names) emit({ result: name, status: 'ERROR', message, time: 0 });
    return emit({ done: true });
  }
  const job = {
    source, entry, timeoutMs: Math.max(1, Math.round(timeoutS * 1000)),
    cases: new Map(cases.map((c) => [c.name, { args: c.args || [], kwargs: c.kwargs }])),
  };
  runAll(job, names, timeoutS, emit).then(() => emit({ done: true }));
}

function outcome(message, timeoutS) {
  if (message.timeout === 'load') {
    return ['TIMEOUT', `the solution's top-level code did not finish in ${timeoutS} s`];
  }
  if (message.timeout) return ['TIMEOUT', `exceeded the ${timeoutS} s time limit`];
  if (typeof message.returned === 'string') return ['ERROR', RAW_PREFIX + message.returned];
  return ['ERROR', short(String(message.error ?? 'the call sent back no result'))];
}

async function runAll(job, names, timeoutS, emit) {
  let remaining = names;
  while (remaining.length) {
    const reported = await runWorker({ ...job, names: remaining }, timeoutS, emit);
    if (reported.size === 0) { // the worker died before starting a case: do not loop forever
      for (const name of remaining) {
        emit({ result: name, status: 'ERROR', message: 'the test worker died before running it',
               time: 0 });
      }
      return;
    }
    remaining = remaining.filter((name) => !reported.has(name));
  }
}

function runWorker(job, timeoutS, emit) {
  return new Promise((resolve) => {
    const reported = new Set();
    let current = null;
    let started = 0;
    let timer = null;
    let ended = false;
    const worker = new Worker(__filename, { workerData: job, execArgv: [], stdout: true,
                                            stderr: true });
    worker.stdout.resume(); // what the solution prints is not kept
    worker.stderr.resume();
    const report = (status, message) => {
      clearTimeout(timer);
      emit({ result: current, status, message, time: (Date.now() - started) / 1000 });
      reported.add(current);
      current = null;
    };
    worker.on('message', (message) => {
      if (ended) return;
      if (message.start !== undefined && job.names.includes(message.start)) {
        current = message.start;
        started = Date.now();
        emit({ start: current });
        timer = setTimeout(() => {
          report('TIMEOUT', `exceeded the ${timeoutS} s time limit`);
          ended = true;
          worker.terminate();
        }, job.timeoutMs + GRACE_MS);
      } else if (message.result !== undefined && message.result === current) {
        report(...outcome(message, timeoutS));
      }
    });
    worker.on('error', (error) => {
      if (current !== null) report('ERROR', `uncaught ${describe(error)}`);
    });
    worker.on('exit', (code) => {
      if (current !== null) {
        report('ERROR', `the solution ended the process (exit code ${code}) before returning`);
      }
      clearTimeout(timer);
      resolve(reported);
    });
  });
}

if (isMainThread) mainThread();
else workerMain();
