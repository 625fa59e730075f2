// Throughput of aws-local-stepfunctions on one standard workload: one client in-process,
// executions back to back (as the peer figures in shared/bench/README.md were measured).
// Usage: node -r ./with-resolvers.cjs peer-bench.cjs BENCH_DIR WORKFLOW SECONDS
// Prints one JSON line: {"engine","workflow","executions","seconds","per_sec","per_cpu_sec"}.
const fs = require('fs');
const path = require('path');
const { StateMachine } = require('aws-local-stepfunctions');

const [benchDir, workflow, secondsArg] = process.argv.slice(2);
const seconds = Number(secondsArg || 5);
const definition = JSON.parse(fs.readFileSync(path.join(benchDir, `${workflow}.asl.json`), 'utf8'));
const event = JSON.parse(fs.readFileSync(path.join(benchDir, workflow === 'branchy' ? 'event-branchy.json' : 'event.json'), 'utf8'));
const expected = JSON.parse(fs.readFileSync(path.join(benchDir, 'expected', `${workflow}.json`), 'utf8'));
const machine = new StateMachine(definition);
const options = {
  overrides: { taskResourceLocalHandlers: { Annotate: async (input) => ({ ...input, processedBy: 'local-fn' }) } },
};

// Same output as AWS semantics give (key order aside), or the comparison means nothing.
const canonical = (v) => JSON.stringify(v, (k, x) => (x && typeof x === 'object' && !Array.isArray(x)
  ? Object.fromEntries(Object.keys(x).sort().map((key) => [key, x[key]])) : x));

async function runFor(ms) {
  const end = performance.now() + ms;
  let n = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 50; i++) {
      await machine.run(event, options).result;
      n++;
    }
  }
  return n;
}

(async () => {
  const first = await machine.run(event, options).result;
  if (canonical(first) !== canonical(expected)) {
    console.error(`${workflow}: aws-local-stepfunctions output differs from expected/${workflow}.json`);
    process.exit(1);
  }
  await runFor(1000); // warm-up: JIT
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  const n = await runFor(seconds * 1000);
  const elapsed = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  console.log(JSON.stringify({
    engine: 'aws-local-stepfunctions', workflow, executions: n, seconds: elapsed,
    per_sec: n / elapsed, per_cpu_sec: n / cpuSeconds,
  }));
})().catch((e) => { console.error(e); process.exit(1); });
