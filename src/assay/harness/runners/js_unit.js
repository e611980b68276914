// assay's JavaScript and TypeScript unit-test runner, run inside the sandbox by node.
//
// The first process (the supervisor) holds the report fd and never runs the code under test.
// It starts a child node process that loads the solution and the tests and runs the tests
// one after another, saying on a pipe (fd 3) when each starts and how it ended. The
// supervisor enforces each test's time limit and kills the child when one is over; after a
// timeout or a crash (process.exit, out of memory) it starts a new child for the tests not
// yet run, so one test never hides the others.
//
// Two styles of test file; assay_plan.json (written by harness/unit/javascript.py) says which:
// - node:test: test()/it(), nested in describe()/suite(), from 'node:test' or used as
//   globals. Each is one test named by its titles ("outer > inner"); a small
//   re-implementation of node:test below runs them, so that the runner picks which to run.
// - scripts of console.assert()/assert() calls (HumanEval-X, MultiPL-E): each call site is
//   one test, "assert:LINE". The harness wrapped each in __assay_site(id, thunk): a site
//   that fails or throws does not stop the file, and a new child skips the sites decided.
//
// The solution runs as a script in the global scope, so tests may call its functions as
// globals (HumanEval-X) or require('./solution') / import from './solution'.
//
// A batch (ASSAY_JS_BATCH names its file) verifies many solutions in one sandbox run, with
// one supervisor: it reads every input first, then for each solution writes its files into
// the work dir, runs its tests exactly as above, reports them as one line
// {"job": N, "events": [...]}, and clears away what the solution left behind (its processes,
// its files in the work dir and /tmp) before the next one starts.
'use strict';

const fs = require('fs');
const path = require('path');
const util = require('util');
const vm = require('vm');
const Module = require('module');
const { spawn } = require('child_process');
const crypto = require('crypto');

const MESSAGE_LIMIT = 2000;
const CHANNEL_FD = 3;
const SECRET_LENGTH = 32;
const CHILD_ENV = 'ASSAY_JS_CHILD';
const BATCH_ENV = 'ASSAY_JS_BATCH';
const PLAN_FILE = 'assay_plan.json';
// How long processes killed between the solutions of a batch may take to die.
const KILL_WAIT_MS = 2000;
const STATUSES = ['PASS', 'FAIL', 'ERROR', 'TIMEOUT'];
const RANK = { PASS: 0, FAIL: 1, ERROR: 2, TIMEOUT: 3 };
// Kept before the code under test runs, which may replace them.
const stringify = JSON.stringify;
const exit = process.exit.bind(process);
const reallyExit = process.reallyExit.bind(process);

function short(text) {
  text = String(text);
  return text.length <= MESSAGE_LIMIT ? text : text.slice(0, MESSAGE_LIMIT) + '...';
}

// The plan of the solution under test (assay_plan.json beside the runner): the child reads
// it when it starts; the supervisor is given each solution's plan.
let plan = null;

function readPlan() {
  return JSON.parse(fs.readFileSync(path.join(__dirname, PLAN_FILE), 'utf8'));
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

// ---------------------------------------------------------------------------------------
// The supervisor.

function supervisorMain(only) {
  const reportFd = Number(process.env.ASSAY_REPORT_FD);
  delete process.env.ASSAY_REPORT_FD; // the child must not find the report channel
  // Set by the bwrap sandbox: every process of our uid in this pid namespace, and everything
  // in /tmp, belongs to this run, so killing them all and wiping /tmp touch nothing else.
  // Never set by the local backend, which runs on the host itself.
  const sandboxed = process.env.ASSAY_SANDBOXED === '1' && process.getuid() !== 0;
  delete process.env.ASSAY_SANDBOXED;
  const batchFile = process.env[BATCH_ENV];
  delete process.env[BATCH_ENV];
  const emit = (event) => {
    const data = Buffer.from(stringify(event) + '\n');
    for (let offset = 0; offset < data.length;) offset += fs.writeSync(reportFd, data, offset);
  };
  if (batchFile === undefined) {
    superviseSolution(readPlan(), only, emit);
    return;
  }
  superviseBatch(path.resolve(__dirname, batchFile), emit, sandboxed).catch((error) => {
    // Not a verdict: the solutions not reported yet are verified again, each on its own.
    process.stderr.write(`the batch stopped: ${error && error.stack || error}\n`);
    process.exitCode = 70;
  });
}

// Verifies the solutions of a batch one after another, each as a run of its own would.
async function superviseBatch(batchFile, emit, sandboxed) {
  // Read before any solution runs: the code under test may change any file it can reach.
  const batch = JSON.parse(fs.readFileSync(batchFile, 'utf8'));
  const runner = fs.readFileSync(__filename);
  for (const [index, job] of batch.jobs.entries()) {
    clearAway(sandboxed); // before the first solution too: it must not read the batch
    const suite = batch.tests[job.tests];
    writeWorkFiles({ ...suite, ...job.files, [path.basename(__filename)]: runner });
    Object.assign(process.env, job.env);
    const events = [];
    await superviseSolution(JSON.parse(suite[PLAN_FILE]), [], (event) => events.push(event));
    emit({ job: index, events });
  }
}

// Nothing a solution leaves behind reaches the next one: its processes, its files. Throws
// when something cannot be cleared; the batch then stops.
function clearAway(sandboxed) {
  if (sandboxed) killEveryOtherProcess();
  for (const directory of sandboxed ? [__dirname, '/tmp'] : [__dirname]) {
    for (const entry of fs.readdirSync(directory)) {
      fs.rmSync(path.join(directory, entry), { recursive: true, force: true });
    }
  }
}

function killEveryOtherProcess() {
  try { process.kill(-1, 'SIGKILL'); } catch (error) { /* ESRCH: there was none */ }
  // SIGKILL takes effect when the target next runs: wait until none can write a file again.
  const deadline = Date.now() + KILL_WAIT_MS;
  for (let alive = othersAlive(); alive.length; alive = othersAlive()) {
    if (Date.now() > deadline) throw new Error(`processes survived SIGKILL: ${alive}`);
    sleep(1);
  }
}

// Processes of the pid namespace besides its init (bwrap, pid 1) and this one, zombies aside.
function othersAlive() {
  return fs.readdirSync('/proc').filter((entry) => /^\d+$/.test(entry) && entry !== '1' &&
                                         Number(entry) !== process.pid && !isDead(entry));
}

function isDead(pid) {
  let stat;
  try { stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1'); } catch (error) { return true; }
  const state = stat[stat.lastIndexOf(')') + 2]; // after "pid (name) "
  return state === 'Z' || state === 'X';
}

function writeWorkFiles(files) {
  for (const [name, content] of Object.entries(files)) {
    fs.writeFileSync(path.join(__dirname, name), content);
  }
}

// Runs the tests of one solution; resolves once it has reported every test and "done", or
// "fatal" when none can run. Never rejects.
function superviseSolution(testPlan, only, emit) {
  return superviseTests(testPlan, only, emit).catch((error) => {
    emit({ fatal: short(`the test runner failed: ${error && error.stack || error}`) });
  });
}

async function superviseTests(testPlan, only, emit) {
  const timeoutS = Number(process.env.ASSAY_TEST_TIMEOUT || '5');
  // A site in a loop starts and ends many times: the report gets its first start, and its
  // result each time the status changes.
  const reported = new Map(); // name -> status last reported
  const started = new Set();
  const report = (name, status, message, seconds) => {
    if (reported.get(name) === status) return;
    reported.set(name, status);
    emit({ result: name, status, message: short(message), time: Math.round(seconds * 1e6) / 1e6 });
  };
  const start = (name) => {
    if (!started.has(name)) emit({ start: name });
    started.add(name);
  };
  let pending = only.length ? only : null; // null: the child collects the tests
  if (testPlan.mode === 'sites' && testPlan.sites.length) {
    const names = testPlan.sites.map((site) => site.name);
    if (!pending) emit({ collect: names });
    pending = pending || names;
  }
  for (;;) {
    const end = await runChild(pending, timeoutS, { emit, report, start });
    if (end.fatal) {
      emit({ fatal: short(end.fatal) });
      return;
    }
    if (!pending) {
      if (!end.collected) {
        emit({ fatal: short('the tests could not be collected: ' + childDeath(end, timeoutS)) });
        return;
      }
      pending = end.collected;
    }
    if (end.current) { // it died in this test (maybe in a later call of a site that passed)
      const timedOut = end.how === 'timeout';
      report(end.current, timedOut ? 'TIMEOUT' : 'ERROR',
             timedOut ? `test exceeded its ${timeoutS} s time limit`
                      : 'the test crashed: ' + childDeath(end, timeoutS),
             timedOut ? timeoutS : (Date.now() - end.started) / 1000);
    }
    const left = pending.filter((name) => !reported.has(name));
    if (!left.length) break;
    if (end.abort) {
      for (const name of left) report(name, end.abort.status, end.abort.message, 0);
      break;
    }
    if (end.how === 'end') {
      const why = testPlan.mode === 'sites'
        ? 'this assertion never ran (the code around it was not reached)'
        : 'not run: the runner finished without reaching it';
      for (const name of left) report(name, 'ERROR', why, 0);
      break;
    }
    // A crash or a hang inside a test: a new child runs the rest.
    if (end.current || (end.progress && testPlan.mode === 'node_test')) {
      pending = left;
      continue;
    }
    // Outside any test: the file as a whole cannot get further.
    const status = end.how === 'timeout' ? 'TIMEOUT' : 'ERROR';
    for (const name of left) report(name, status, notReachedMessage(end, timeoutS), 0);
    break;
  }
  emit({ done: true });
}

function childDeath(end, timeoutS) {
  if (end.how === 'timeout') {
    return end.phase === 'loading'
      ? `the solution and tests did not finish loading within ${timeoutS} s`
      : `it ran past the ${timeoutS} s time limit`;
  }
  if (end.how === 'spawn-error') return `the test process did not start: ${end.error}`;
  if (end.signal) {
    const hint = end.signal === 'SIGKILL' ? ' (out of memory?)' : '';
    return `the test process was killed by ${end.signal}${hint}`;
  }
  const hint = end.code === 0 ? ' (process.exit?)' : '';
  return `the test process exited with code ${end.code}${hint}`;
}

function notReachedMessage(end, timeoutS) {
  if (end.phase === 'loading') return childDeath(end, timeoutS);
  const after = end.lastTest ? ` after ${end.lastTest}` : '';
  if (end.how === 'timeout') {
    return `did not run: the test file ran past its ${timeoutS} s time limit outside any ` +
           `test${after}`;
  }
  return `did not run: the test file stopped${after}: ${childDeath(end, timeoutS)}`;
}

// Runs one child for the tests in `pending` (all, collecting them, when null); resolves when
// it is gone, with how it ended. Results are reported as they come.
function runChild(pending, timeoutS, { emit, report, start }) {
  return new Promise((resolve) => {
    const state = { how: null, phase: 'starting', current: null, started: 0, lastTest: null,
                    collected: null, progress: false, abort: null, fatal: null };
    // The child signs what it says with a secret it reads from the channel before the code
    // under test runs, so that this code cannot forge results by writing to the channel.
    const secret = crypto.randomBytes(SECRET_LENGTH / 2).toString('hex');
    const child = spawn(process.execPath,
      ['--experimental-vm-modules', '--no-warnings', __filename], {
        stdio: ['inherit', 'inherit', 'inherit', 'pipe'],
        detached: true, // its own process group, killed whole
        env: { ...process.env, [CHILD_ENV]: stringify({ only: pending }) },
      });
    let timer = null;
    const killGroup = () => {
      try { process.kill(-child.pid, 'SIGKILL'); } catch (error) { /* already gone */ }
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => { state.how = state.how || 'timeout'; killGroup(); },
                         timeoutS * 1000);
    };
    const known = (name) => typeof name === 'string' &&
      (pending ? pending.includes(name) : (state.collected || []).includes(name));
    const onEvent = (event) => {
      if (event.hello) {
        state.phase = 'loading';
      } else if (event.phase) {
        state.phase = String(event.phase);
      } else if (Array.isArray(event.collect)) {
        state.collected = event.collect.map(String);
        emit({ collect: state.collected });
      } else if (event.start !== undefined && known(event.start)) {
        state.current = event.start;
        state.started = Date.now();
        start(event.start);
        if (event.ack) tell('+');
      } else if (event.result !== undefined && known(event.result)) {
        const status = STATUSES.includes(event.status) ? event.status : 'ERROR';
        const seconds = event.result === state.current ? (Date.now() - state.started) / 1000 : 0;
        report(event.result, status, String(event.message || ''), seconds);
        state.lastTest = event.result;
        state.current = null;
        state.progress = true;
      } else if (event.abort) {
        state.abort = { status: STATUSES.includes(event.abort.status) ? event.abort.status
                                                                        : 'ERROR',
                        message: String(event.abort.message || '') };
      } else if (event.fatal) {
        state.fatal = String(event.fatal);
      } else if (event.end) {
        state.how = state.how || 'end';
        return;
      }
      arm();
    };
    child.on('error', (error) => { // it could not start (node may then not emit 'close')
      clearTimeout(timer);
      resolve({ ...state, how: 'spawn-error', error: String(error) });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      killGroup(); // anything it left running
      resolve({ ...state, how: state.how || 'exit', code, signal });
    });
    const tell = (text) => {
      try { child.stdio[3].write(text); } catch (error) { /* it is gone; 'close' follows */ }
    };
    let buffer = '';
    if (!child.stdio[3]) return; // it did not start: 'error' follows
    tell(secret + '\n');
    child.stdio[3].setEncoding('utf8');
    child.stdio[3].on('data', (chunk) => {
      buffer += chunk;
      let newline;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (!line.startsWith(secret + ' ')) continue;
        let event;
        try { event = JSON.parse(line.slice(secret.length + 1)); } catch (error) { continue; }
        if (event && typeof event === 'object') onEvent(event);
      }
    });
  });
}

// ---------------------------------------------------------------------------------------
// The child: loads and runs the code under test.

const io = (() => {
  let secret = '';
  return {
    receiveSecret() {
      secret = readExactly(SECRET_LENGTH + 1).toString('latin1', 0, SECRET_LENGTH);
    },
    send(event) { writeAll(Buffer.from(`${secret} ${stringify(event)}\n`)); },
    // Says a test starts, and waits until the supervisor has recorded it: the test may kill
    // the supervisor, and the harness must then know which test did.
    start(name) {
      io.send({ start: name, ack: true });
      readExactly(1);
    },
  };
})();

// A supervisor that is gone leaves this process nothing to do.
function supervisorGone() {
  reallyExit(70);
}

function readExactly(length) {
  const buffer = Buffer.alloc(length);
  for (let got = 0; got < length;) {
    let read = 0;
    try {
      read = fs.readSync(CHANNEL_FD, buffer, got, length - got);
    } catch (error) {
      if (error.code !== 'EAGAIN') supervisorGone();
    }
    if (read === 0) supervisorGone();
    got += read;
  }
  return buffer;
}

function writeAll(data) {
  let offset = 0;
  while (offset < data.length) {
    try {
      offset += fs.writeSync(CHANNEL_FD, data, offset);
    } catch (error) {
      if (error.code !== 'EAGAIN') supervisorGone();
      sleep(1);
    }
  }
}

function isThenable(value) {
  return value !== null && (typeof value === 'object' || typeof value === 'function') &&
    typeof value.then === 'function';
}

function defineGlobal(name, value) {
  Object.defineProperty(globalThis, name, { value, writable: true, configurable: true,
                                            enumerable: false });
}

// -- where an error happened, for messages ------------------------------------------------

const sourceLines = new Map();

function linesOf(file) {
  if (!sourceLines.has(file)) {
    let lines = [];
    if (file === plan.tests && plan.tests_lines && plan.language === 'javascript') {
      lines = plan.tests_lines; // as written, not as rewritten
    } else {
      try { lines = fs.readFileSync(file, 'utf8').split('\n'); } catch (error) { /* none */ }
    }
    sourceLines.set(file, lines);
  }
  return sourceLines.get(file);
}

function displayName(file) {
  return (plan.display && plan.display[file]) || path.basename(file);
}

function frames(stack) {
  const found = [];
  for (const line of String(stack || '').split('\n')) {
    const match = /\(?((?:file:\/\/)?\/[^():]+):(\d+):(\d+)\)?\s*$/.exec(line);
    if (match && /^\s+at /.test(line)) {
      found.push({ file: match[1].replace(/^file:\/\//, ''), line: Number(match[2]) });
    }
  }
  return found;
}

function codeAt(file, line) {
  const text = (linesOf(file)[line - 1] || '').trim();
  return text.length <= 160 ? text : text.slice(0, 160) + '...';
}

function where(file, line) {
  const code = codeAt(file, line);
  return `${displayName(file)}:${line}` + (code ? `: ${code}` : '');
}

// The place in the tests (for a failed assertion) or in the solution or the tests (for an
// error) that the error comes from.
function locate(error, inTestsOnly) {
  const ours = frames(error && error.stack).filter((frame) =>
    frame.file === plan.tests || (!inTestsOnly && frame.file === plan.solution));
  return ours.length ? ` (at ${where(ours[0].file, ours[0].line)})` : '';
}

function isAssertion(error) {
  return Boolean(error) && (error.code === 'ERR_ASSERTION' ||
                            /^AssertionError/.test(String(error.name)));
}

// The status and message of a test that threw `error`; `located` says where it came from.
function failureOf(error, located = true) {
  const status = isAssertion(error) ? 'FAIL' : 'ERROR';
  let text;
  if (error instanceof Error || (error && typeof error === 'object' && 'message' in error)) {
    const lines = String(error.message).trim().split('\n');
    const message = lines.length > 30 ? lines.slice(0, 30).join('\n') + '\n...' : lines.join('\n');
    text = status === 'FAIL' ? message : `${error.name || 'Error'}: ${message}`;
  } else {
    text = `threw ${util.inspect(error, { depth: 2, breakLength: Infinity })}`;
  }
  return { status, message: short(text + (located ? locate(error, status === 'FAIL') : '')) };
}

function syntaxMessage(error, file) {
  const first = String(error.stack || '').split('\n')[0];
  const match = /:(\d+)$/.exec(first);
  const at = match ? ` (at ${where(file, Number(match[1]))})` : '';
  return `${error.name}: ${error.message}${at}`;
}

// -- modules: what require('./solution'), require('node:test') and imports give -----------

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function globalBinding(name) {
  if (!IDENTIFIER.test(name)) return undefined;
  try {
    return vm.runInThisContext(`typeof ${name} === 'undefined' ? undefined : ${name}`);
  } catch (error) {
    return undefined;
  }
}

function isSolutionSpecifier(specifier) {
  return /^(\.{1,2}\/|\/)/.test(specifier) &&
    path.basename(specifier).replace(/\.[cm]?[jt]s$/, '') === 'solution';
}

class Loader {
  constructor(testsFile) {
    this.realRequire = Module.createRequire(testsFile);
    this.solution = { exports: {} };
    this.nodeTest = null; // the node:test module the tests see
    this.assertWrapper = null; // wraps the assert module (line mode)
    this.synthetic = new Map();
    const loader = this;
    this.require = function require(specifier) { return loader.load(String(specifier)); };
    this.require.resolve = this.realRequire.resolve;
    this.require.cache = this.realRequire.cache;
    this.link = (specifier) => this.module(specifier);
    this.dynamicImport = async (specifier) => {
      const module = this.module(String(specifier));
      await module.link(this.link);
      await module.evaluate();
      return module;
    };
  }

  load(specifier) {
    if ((specifier === 'node:test' || specifier === 'test') && this.nodeTest) return this.nodeTest;
    if (isSolutionSpecifier(specifier)) return this.solutionExports();
    const value = this.realRequire(specifier);
    if (this.assertWrapper && /^(node:)?assert(\/strict)?$/.test(specifier)) {
      return this.assertWrapper(value);
    }
    return value;
  }

  // The solution's exports; a name it does not export falls back to its global of that
  // name, so that tests can require a solution that only defines functions.
  solutionExports() {
    const target = this.solution.exports;
    if (target === null || (typeof target !== 'object' && typeof target !== 'function')) {
      return target;
    }
    return new Proxy(target, {
      get(object, key, receiver) {
        if (typeof key !== 'string' || key in object || key === 'then') {
          return Reflect.get(object, key, receiver);
        }
        return globalBinding(key);
      },
    });
  }

  module(specifier) {
    if (!this.synthetic.has(specifier)) {
      const value = this.load(specifier);
      const keys = value !== null && (typeof value === 'object' || typeof value === 'function')
        ? Object.keys(value) : [];
      if (value === this.nodeTest) keys.push('mock');
      if (isSolutionSpecifier(specifier)) keys.push(...this.solutionDeclarations());
      const names = [...new Set(['default', ...keys])];
      const fallback = value && value.__esModule && 'default' in value ? value.default : value;
      this.synthetic.set(specifier, new vm.SyntheticModule(names, function () {
        for (const name of names) this.setExport(name, name === 'default' ? fallback : value[name]);
      }, { identifier: `assay:${specifier}` }));
    }
    return this.synthetic.get(specifier);
  }

  // Compiles a file as CommonJS, else as an ES module; throws its SyntaxError.
  compile(file, wrap, filename = file) {
    const source = fs.readFileSync(file, 'utf8').replace(/^#!.*/, '');
    const head = wrap ? WRAP_HEAD : '';
    try {
      return { file: filename, script: new vm.Script(head + source + (wrap ? WRAP_TAIL : ''), {
        filename, importModuleDynamically: this.dynamicImport }) };
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      try {
        return { file: filename, esm: new vm.SourceTextModule(source, {
          identifier: filename, importModuleDynamically: this.dynamicImport }) };
      } catch (esmError) {
        throw /^\s*(import|export)\b/m.test(source) ? esmError : error;
      }
    }
  }

  // Names the solution declares at its top level (at the start of a line), which an ES
  // module may import from './solution' even when the solution exports nothing.
  solutionDeclarations() {
    let source = '';
    try { source = fs.readFileSync(plan.solution, 'utf8'); } catch (error) { /* none */ }
    const declaration = /^(?:export\s+)?(?:async\s+)?(?:function\s*\*?|class|const|let|var)\s*([A-Za-z_$][\w$]*)/gm;
    return [...source.matchAll(declaration)].map((match) => match[1]);
  }

  async loadSolution() {
    let unit;
    try {
      unit = this.compile(plan.solution, false);
    } catch (error) {
      return 'the solution does not compile: ' + syntaxMessage(error, plan.solution);
    }
    const module = { exports: {}, id: plan.solution, filename: plan.solution, loaded: false,
                     children: [], paths: [] };
    this.solution = module;
    for (const [name, value] of Object.entries({
      module, exports: module.exports, require: this.require, __filename: plan.solution,
      __dirname: path.dirname(plan.solution) })) {
      defineGlobal(name, value);
    }
    try {
      if (unit.esm) {
        await unit.esm.link(this.link);
        await unit.esm.evaluate();
        module.exports = unit.esm.namespace;
      } else {
        unit.script.runInThisContext();
      }
    } catch (error) {
      return 'the solution failed while loading: ' + failureOf(error).message;
    }
    module.loaded = true;
    // What it exports is also global, for tests that call its functions as globals.
    const exported = module.exports;
    if (exported !== null && typeof exported === 'object') {
      for (const name of Object.keys(exported)) {
        if (name !== 'default' && IDENTIFIER.test(name) && globalBinding(name) === undefined) {
          defineGlobal(name, exported[name]);
        }
      }
    }
    return null;
  }

  // Runs the test file compiled by compile(file, true); `injected` are its node:test globals.
  async run(unit, injected) {
    if (unit.esm) {
      await unit.esm.link(this.link);
      await unit.esm.evaluate();
      return;
    }
    const module = { exports: {}, id: unit.file, filename: unit.file, loaded: false,
                     children: [], paths: [] };
    const inner = unit.script.runInThisContext()(...INJECTED.map((name) => injected[name]));
    await inner.call(module.exports, module.exports, this.require, module, unit.file,
                     path.dirname(unit.file));
  }
}

// The test file runs inside these, on the same lines as written. The outer function gives
// the node:test globals; the inner one is node's own CommonJS wrapper, so the file may
// declare any of those names again.
const INJECTED = ['test', 'it', 'describe', 'suite', 'before', 'after', 'beforeEach',
                  'afterEach'];
const WRAP_HEAD = `(function (${INJECTED.join(', ')}) { return function (exports, require, ` +
                  'module, __filename, __dirname) {';
const WRAP_TAIL = '\n}})';

// -- node:test ---------------------------------------------------------------------------

function parseTestArgs(args) {
  let title;
  let options = {};
  let fn;
  for (const arg of args) {
    if (typeof arg === 'string') title = arg;
    else if (typeof arg === 'function') fn = arg;
    else if (arg && typeof arg === 'object') options = arg;
  }
  return { title, options, fn };
}

function callWithContext(fn, context) {
  if (typeof fn !== 'function') return Promise.resolve();
  if (fn.length >= 2) { // callback style: fn(t, done)
    return new Promise((resolve, reject) => {
      fn.call(context, context, (error) => (error ? reject(error) : resolve()));
    });
  }
  return Promise.resolve().then(() => fn.call(context, context));
}

class NodeTestRegistry {
  constructor(loader) {
    this.loader = loader;
    this.root = this.newSuite('', null, {});
    this.tests = [];
    this.names = new Set();
    this.pendingSuites = [];
    this.currentSuite = this.root;
    this.running = null; // the context of the test being run
    this.stray = null; // rejects the running test with an error thrown outside of it
    this.api = this.makeApi();
  }

  newSuite(title, parent, options) {
    return { title, parent, skip: Boolean(options.skip) || Boolean(parent && parent.skip),
             hooks: { before: [], after: [], beforeEach: [], afterEach: [] },
             beforeRan: false, error: null, lastSelected: null };
  }

  fullName(suite, title) {
    const parts = [title];
    for (let s = suite; s && s !== this.root; s = s.parent) parts.unshift(s.title);
    return parts.join(' > ');
  }

  makeApi() {
    const registry = this;
    function test(...args) {
      const { title, options, fn } = parseTestArgs(args);
      if (registry.running) return registry.running.test(title, options, fn);
      const full = registry.fullName(registry.currentSuite,
                                     title || (fn && fn.name) || '<anonymous>');
      let name = full;
      for (let k = 2; registry.names.has(name); k++) name = `${full} (${k})`;
      registry.names.add(name);
      registry.tests.push({ name, fn, suite: registry.currentSuite,
                            skip: Boolean(options.skip) || registry.currentSuite.skip });
      return Promise.resolve();
    }
    function describe(...args) {
      const { title, options, fn } = parseTestArgs(args);
      const suite = registry.newSuite(title || (fn && fn.name) || '<anonymous>',
                                      registry.currentSuite, options);
      const outer = registry.currentSuite;
      registry.currentSuite = suite;
      try {
        const result = typeof fn === 'function' ? fn.call(undefined, {}) : undefined;
        if (isThenable(result)) {
          registry.pendingSuites.push(Promise.resolve(result).catch((error) => {
            suite.error = suite.error || error;
          }));
        }
      } catch (error) {
        suite.error = error;
      } finally {
        registry.currentSuite = outer;
      }
      return Promise.resolve();
    }
    const hook = (kind) => (fn) => {
      const hooks = registry.running ? registry.running.hooks : registry.currentSuite.hooks;
      hooks[kind].push(fn);
    };
    const variant = (base, option) => (...args) => {
      const { title, options, fn } = parseTestArgs(args);
      return base(title, { ...options, ...option }, fn);
    };
    for (const base of [test, describe]) {
      base.skip = variant(base, { skip: true });
      base.todo = variant(base, { todo: true });
      base.only = variant(base, {});
    }
    Object.assign(test, { test, it: test, describe, suite: describe, before: hook('before'),
                          after: hook('after'), beforeEach: hook('beforeEach'),
                          afterEach: hook('afterEach') });
    Object.defineProperty(test, 'mock', { get: () => require('node:test').mock });
    return test;
  }

  globals() {
    const api = this.api;
    return { test: api, it: api, describe: api.describe, suite: api.describe, before: api.before,
             after: api.after, beforeEach: api.beforeEach, afterEach: api.afterEach };
  }

  makeContext(name, title) {
    const registry = this;
    const controller = new AbortController();
    const context = {
      name: title, fullName: name, signal: controller.signal, failures: [], subtests: [],
      skipped: null, hooks: { before: [], after: [], beforeEach: [], afterEach: [] },
      diagnostic() {}, plan() {}, todo() {}, runOnly() {},
      skip(message) { context.skipped = message ? String(message) : ''; },
      get mock() { return require('node:test').mock; },
      get assert() { return require('node:assert'); },
      test(...args) {
        const { title: subTitle, options, fn } = parseTestArgs(args);
        const promise = registry.runSubtest(context, subTitle || (fn && fn.name) || '<anonymous>',
                                            options, fn);
        context.subtests.push(promise);
        return promise;
      },
      abort: () => controller.abort(),
    };
    for (const kind of ['before', 'after', 'beforeEach', 'afterEach']) {
      context[kind] = (fn) => context.hooks[kind].push(fn);
    }
    return context;
  }

  async runSubtest(parent, title, options, fn) {
    if (options.skip) return;
    const context = this.makeContext(`${parent.fullName} > ${title}`, title);
    const outer = this.running;
    this.running = context;
    let error = null;
    try {
      for (const hook of parent.hooks.beforeEach) await callWithContext(hook, context);
      await callWithContext(fn, context);
      await this.settle(context);
      for (const hook of parent.hooks.afterEach) await callWithContext(hook, context);
    } catch (caught) {
      error = caught;
    } finally {
      this.running = outer;
    }
    const outcome = this.outcome(error, context);
    if (outcome.status !== 'PASS') {
      parent.failures.push({ status: outcome.status,
                             message: `subtest "${title}": ${outcome.message}` });
    }
  }

  async settle(context) {
    for (let done = 0; done < context.subtests.length; done = context.subtests.length) {
      await Promise.all(context.subtests.slice(done));
    }
  }

  outcome(error, context) {
    if (error) return failureOf(error);
    if (context.failures.length) {
      return context.failures.find((f) => f.status !== 'FAIL') || context.failures[0];
    }
    if (context.skipped !== null) {
      return { status: 'ERROR', message: 'skipped, so it did not run' +
                                         (context.skipped ? `: ${context.skipped}` : '') };
    }
    return { status: 'PASS', message: '' };
  }

  // Runs one test with the hooks around it; never throws.
  async run(entry) {
    if (entry.skip) return { status: 'ERROR', message: 'skipped, so it did not run' };
    if (typeof entry.fn !== 'function') {
      return { status: 'ERROR', message: 'the test has no function, so it checks nothing' };
    }
    const chain = [];
    for (let s = entry.suite; s; s = s.parent) chain.unshift(s);
    let stray;
    const strayError = new Promise((resolve, reject) => { stray = reject; });
    strayError.catch(() => {});
    this.stray = stray;
    const guard = (promise) => Promise.race([promise, strayError]);
    const title = entry.name.split(' > ').pop();
    const context = this.makeContext(entry.name, title);
    let error = null;
    try {
      for (const suite of chain) {
        if (!suite.beforeRan) {
          suite.beforeRan = true;
          for (const hook of suite.hooks.before) await guard(callWithContext(hook, {}));
        }
        if (suite.error) throw suite.error;
      }
    } catch (caught) {
      for (const suite of chain) suite.error = suite.error || caught;
      this.stray = null;
      const failed = failureOf(caught);
      return { status: 'ERROR', message: short('a before hook (or the describe block) of ' +
                                               'this test failed: ' + failed.message) };
    }
    this.running = context;
    try {
      for (const suite of chain) {
        for (const hook of suite.hooks.beforeEach) await guard(callWithContext(hook, context));
      }
      await guard(callWithContext(entry.fn, context));
      await guard(this.settle(context));
    } catch (caught) {
      error = caught;
    }
    const after = async (hooks, ctx) => {
      for (const hook of hooks) {
        try { await guard(callWithContext(hook, ctx)); } catch (caught) { error = error || caught; }
      }
    };
    await after(context.hooks.after, context);
    for (const suite of [...chain].reverse()) await after(suite.hooks.afterEach, context);
    this.running = null;
    for (const suite of [...chain].reverse()) {
      if (suite.lastSelected === entry) await after(suite.hooks.after, {});
    }
    this.stray = null;
    return this.outcome(error, context);
  }
}

// -- the child's main ----------------------------------------------------------------------

function consoleAssertMessage(rest) {
  return rest.length ? `: ${util.format(...rest)}` : '';
}

function callerLine() {
  const holder = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 50;
  Error.captureStackTrace(holder);
  Error.stackTraceLimit = limit;
  const frame = frames(holder.stack).find((f) => f.file === plan.tests);
  return frame ? frame.line : null;
}

async function runNodeTests(loader, only) {
  const registry = new NodeTestRegistry(loader);
  loader.nodeTest = registry.api;
  // Errors thrown outside a test's own promise chain (a callback, a rejected promise
  // nobody awaits) fail the test that is running, as in node:test.
  const stray = (error) => {
    if (registry.stray) registry.stray(error);
    else process.stderr.write(`error outside any test: ${util.inspect(error)}\n`);
  };
  process.on('uncaughtException', stray);
  process.on('unhandledRejection', stray);
  let unit;
  try {
    unit = loader.compile(plan.tests, true);
  } catch (error) {
    io.send({ fatal: 'the test file does not parse: ' + syntaxMessage(error, plan.tests) });
    return;
  }
  const originalAssert = console.assert;
  console.assert = function assert(condition, ...rest) {
    if (condition || !registry.running) return originalAssert.call(console, condition, ...rest);
    const line = callerLine();
    registry.running.failures.push({ status: 'FAIL', message: short(
      `console.assert failed${consoleAssertMessage(rest)}` +
      (line ? ` (at ${where(plan.tests, line)})` : '')) });
    return undefined;
  };
  process.on('beforeExit', () => {
    // Nothing left that could settle what the running test awaits.
    if (registry.stray) registry.stray(new Error('the test never finished: it waits for a ' +
                                                 'promise that nothing will settle'));
  });
  const solutionFailure = await loader.loadSolution();
  let loadError = null;
  try {
    await loader.run(unit, registry.globals());
    await Promise.all(registry.pendingSuites);
  } catch (error) {
    loadError = error;
  }
  if (!only) {
    if (loadError && !registry.tests.length) {
      io.send({ fatal: short(solutionFailure ||
                             'the test file failed while loading: ' + failureOf(loadError).message) });
      return;
    }
    if (!registry.tests.length) {
      io.send({ fatal: 'the test file has no tests: it registers no node:test test() or it()' });
      return;
    }
    io.send({ collect: registry.tests.map((entry) => entry.name) });
  }
  if (solutionFailure || loadError) {
    io.send({ abort: { status: 'ERROR', message: short(solutionFailure ||
      'the test file failed while loading: ' + failureOf(loadError).message) } });
    return;
  }
  io.send({ phase: 'running' });
  const wanted = only ? new Set(only) : null;
  const selected = registry.tests.filter((entry) => !wanted || wanted.has(entry.name));
  for (const entry of selected) {
    for (let s = entry.suite; s; s = s.parent) s.lastSelected = entry;
  }
  for (const entry of selected) {
    io.start(entry.name);
    const outcome = await registry.run(entry);
    io.send({ result: entry.name, status: outcome.status, message: outcome.message });
  }
  io.send({ end: true });
}

async function runSites(loader, only) {
  const sites = plan.sites;
  const selected = new Set(only || sites.map((site) => site.name));
  const outcomes = new Map();
  const finish = (site, status, message) => {
    const previous = outcomes.get(site.name);
    if (!previous || RANK[status] > RANK[previous.status]) {
      outcomes.set(site.name, { status, message: short(message) });
    }
    const { status: worst, message: why } = outcomes.get(site.name);
    io.send({ result: site.name, status: worst, message: why });
  };
  const failed = (site, error) => {
    // The site's own text says where an assertion failed; an error says where it came from.
    const { status, message } = failureOf(error, !isAssertion(error));
    finish(site, status, `${site.text}: ${message}`);
  };
  const consoleFailures = new Map(); // site id -> message of a false console.assert
  const succeeded = (id) => {
    const site = sites[id];
    if (consoleFailures.has(id)) finish(site, 'FAIL', `${site.text} is false${consoleFailures.get(id)}`);
    else finish(site, 'PASS', '');
  };
  const acknowledged = new Set();
  const begin = (id) => {
    const site = sites[id];
    if (!site || !selected.has(site.name)) return null; // decided in an earlier process
    if (acknowledged.has(id)) io.send({ start: site.name }); // a site run again (a loop)
    else io.start(site.name);
    acknowledged.add(id);
    consoleFailures.delete(id);
    return site;
  };
  defineGlobal('__assay_assert', (id, condition, ...rest) => {
    if (!condition && !consoleFailures.has(id)) consoleFailures.set(id, consoleAssertMessage(rest));
  });
  defineGlobal('__assay_site', (id, thunk) => {
    const site = begin(id);
    if (!site) return undefined;
    let value;
    try {
      value = thunk();
    } catch (error) {
      failed(site, error);
      return undefined;
    }
    if (isThenable(value)) { // e.g. assert.rejects() not awaited
      return Promise.resolve(value).then((settled) => { succeeded(id); return settled; },
                                         (error) => { failed(site, error); });
    }
    succeeded(id);
    return value;
  });
  defineGlobal('__assay_site_async', async (id, thunk) => {
    const site = begin(id);
    if (!site) return undefined;
    try {
      const value = await thunk();
      succeeded(id);
      return value;
    } catch (error) {
      failed(site, error);
      return undefined;
    }
  });

  let unit;
  try {
    unit = loader.compile(plan.tests, true);
  } catch (error) {
    if (!plan.fallback_tests) {
      io.send({ fatal: 'the test file does not parse: ' + syntaxMessage(error, plan.tests) });
      return false;
    }
    try {
      // Same lines as the rewritten file: frames and messages name the test file.
      unit = loader.compile(plan.fallback_tests, true, plan.tests);
    } catch (original) {
      io.send({ fatal: 'the test file does not parse: ' + syntaxMessage(original, plan.tests) });
      return false;
    }
    installLineMode(loader, sites, selected, finish);
  }
  if (!sites.length) {
    io.send({ fatal: 'the test file has no tests: no node:test test() or it(), and no ' +
                     'console.assert() or assert() calls' });
    return false;
  }
  const solutionFailure = await loader.loadSolution();
  if (solutionFailure) {
    io.send({ abort: { status: 'ERROR', message: short(solutionFailure) } });
    return false;
  }
  let finished = false;
  const stop = (error) => {
    if (loader.lineMode) {
      // The site the error came from failed; the others were not reached.
      const frame = frames(error && error.stack).find((f) => f.file === plan.tests);
      const site = frame && sites.find((s) => frame.line >= s.line && frame.line <= s.end_line);
      if (site && selected.has(site.name) && !outcomes.has(site.name)) failed(site, error);
    }
    const { message } = failureOf(error);
    io.send({ abort: { status: 'ERROR', message: short(`did not run: the test file stopped ` +
                                                       `before reaching it: ${message}`) } });
    exit(0);
  };
  process.on('uncaughtException', stop);
  process.on('unhandledRejection', stop);
  process.on('beforeExit', () => {
    if (!finished) {
      io.send({ abort: { status: 'ERROR', message: 'did not run: the test file waits for a ' +
                                                   'promise that nothing will settle' } });
    }
    io.send({ end: true });
    exit(0);
  });
  io.send({ phase: 'running' });
  try {
    await loader.run(unit, {});
  } catch (error) {
    stop(error);
  }
  finished = true;
  return true;
}

// When the rewritten test file does not parse, the original runs as written and its sites
// are told apart by the line of each console.assert() and assert call.
function installLineMode(loader, sites, selected, finish) {
  loader.lineMode = true;
  const siteHere = () => {
    const line = callerLine();
    const site = line && sites.find((s) => line >= s.line && line <= s.end_line);
    return site && selected.has(site.name) ? site : null;
  };
  const originalAssert = console.assert;
  console.assert = function assert(condition, ...rest) {
    const site = siteHere();
    if (!site) return originalAssert.call(console, condition, ...rest);
    io.send({ start: site.name });
    finish(site, condition ? 'PASS' : 'FAIL',
           condition ? '' : `${site.text} is false${consoleAssertMessage(rest)}`);
    return undefined;
  };
  const proxies = new WeakMap();
  const handler = {
    apply(target, self, args) {
      const site = siteHere();
      if (!site) return Reflect.apply(target, self, args);
      io.send({ start: site.name });
      try {
        const value = Reflect.apply(target, self, args);
        finish(site, 'PASS', '');
        return value;
      } catch (error) {
        const { status, message } = failureOf(error, !isAssertion(error));
        finish(site, status, `${site.text}: ${message}`);
        throw error;
      }
    },
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      return typeof value === 'function' && typeof key === 'string' && /^[a-z]/.test(key)
        ? wrap(value) : value;
    },
  };
  const wrap = (value) => {
    if (!proxies.has(value)) proxies.set(value, new Proxy(value, handler));
    return proxies.get(value);
  };
  loader.assertWrapper = wrap;
}

async function childMain() {
  plan = readPlan();
  const config = JSON.parse(process.env[CHILD_ENV]);
  delete process.env[CHILD_ENV];
  Error.stackTraceLimit = 50;
  io.receiveSecret();
  io.send({ hello: true });
  const loader = new Loader(plan.tests);
  if (plan.mode === 'sites') {
    // It stays alive until the test file's own callbacks and timers are done.
    if (!(await runSites(loader, config.only))) exit(0);
  } else {
    await runNodeTests(loader, config.only);
    exit(0);
  }
}

if (process.env[CHILD_ENV] !== undefined) {
  childMain().catch((error) => {
    io.send({ fatal: short(`the test runner failed: ${error && error.stack || error}`) });
    exit(70);
  });
} else {
  supervisorMain(process.argv.slice(2));
}
