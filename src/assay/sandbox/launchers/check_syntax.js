// Preloaded with `node --require`: checks the entry script's syntax before node runs it.
// A syntax error goes to the status fd (ASSAY_STATUS_FD) so the sandbox reports
// COMPILE_ERROR; the fd is closed before the program runs, so the program cannot forge it.
'use strict';
const fs = require('fs');
const vm = require('vm');
const Module = require('module');

const statusFd = Number(process.env.ASSAY_STATUS_FD ?? -1);
delete process.env.ASSAY_STATUS_FD;
const entry = process.argv[1];
if (entry && !entry.endsWith('.mjs')) {
  // Node strips a leading #! line itself; keep the line count so error lines match.
  const source = fs.readFileSync(entry, 'utf8').replace(/^#!.*/, '');
  try {
    new vm.Script(Module.wrap(source), { filename: entry });
  } catch (error) {
    if (error instanceof SyntaxError) {
      const message = `${error.stack}\n`;
      if (statusFd >= 0) fs.writeSync(statusFd, message);
      process.stderr.write(message);
      process.exit(1);
    }
    throw error;
  }
}
if (statusFd >= 0) fs.closeSync(statusFd);
