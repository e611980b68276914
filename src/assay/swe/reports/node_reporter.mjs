// assay's reporter for node's built-in test runner (node --test), Node 20+.
//
//   node --test --test-reporter=./node_reporter.mjs --test-reporter-destination=OUT
//
// Writes one JSON object per finished test or suite, then {"event":"end"}:
//   {"event":"pass"|"fail","file":...,"path":[...describes, name],"kind":"test"|"suite",
//    "skip":bool,"todo":bool,"duration_ms":n,"failure":failureType,"message":...}
// Node's own JUnit reporter names no file and flattens describe blocks, hence this one.
// Read by assay.swe.reports.nodetest.

export default async function* assayReporter(source) {
  // Per file, the names of the tests started at each nesting level: the ancestors.
  const stacks = new Map();
  // Per file, what it wrote on stderr: why a file that never loaded failed.
  const stderr = new Map();
  for await (const event of source) {
    const data = event.data ?? {};
    const file = data.file ?? '';
    if (event.type === 'test:stderr') {
      stderr.set(file, ((stderr.get(file) ?? '') + String(data.message ?? '')).slice(-4000));
    } else if (event.type === 'test:start') {
      const stack = stacks.get(file) ?? [];
      stack.length = data.nesting;
      stack.push(data.name);
      stacks.set(file, stack);
    } else if (event.type === 'test:pass' || event.type === 'test:fail') {
      const stack = stacks.get(file) ?? [];
      const details = data.details ?? {};
      const error = details.error;
      const cause = error?.cause;
      let message = error
        ? String(cause?.stack ?? cause ?? error.message ?? error)
        : (typeof data.skip === 'string' ? data.skip
          : typeof data.todo === 'string' ? data.todo : null);
      if (error && data.nesting === 0 && data.name === file && stderr.has(file)) {
        message = `${message}\n${stderr.get(file)}`;
      }
      yield JSON.stringify({
        event: event.type === 'test:pass' ? 'pass' : 'fail',
        file,
        path: [...stack.slice(0, data.nesting), data.name],
        kind: details.type === 'suite' ? 'suite' : 'test',
        skip: Boolean(data.skip),
        todo: Boolean(data.todo),
        duration_ms: details.duration_ms ?? null,
        failure: error?.failureType ?? null,
        message,
      }) + '\n';
    }
  }
  yield '{"event":"end"}\n';
}
