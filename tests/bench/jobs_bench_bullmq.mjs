// The BullMQ 5 side of tests/bench/run_jobs_bench.py, doing what tripdesk-bench-jobs
// does: P concurrent producers add N no-op jobs one queue.add each, while one Worker
// with concurrency K processes them. Prints one JSON line: jobs/s from the first add
// to the last completion, and the end-to-end latency (add to the processor's start)
// p50/p99. BullMQ is installed by the benchmark under var/bench-node.
//
// With RATE (jobs/s in all, 0: as fast as they can) the producers pace themselves.
//
// usage: node jobs_bench_bullmq.mjs NODE_MODULES_DIR PORT N K [P [RATE]]
import { createRequire } from "node:module";
import path from "node:path";

const [modules, port, nArg, kArg, pArg, rateArg] = process.argv.slice(2);
const require = createRequire(path.join(path.resolve(modules), "noop.js"));
const { Queue, Worker } = require("bullmq");
const N = Number(nArg), K = Number(kArg), P = Number(pArg || 4), RATE = Number(rateArg || 0);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const connection = { host: "127.0.0.1", port: Number(port), maxRetriesPerRequest: null };
const name = "bench";

const queue = new Queue(name, { connection });
await queue.obliterate({ force: true }).catch(() => {});
const lat = [];
let done = 0, finish;
const allDone = new Promise((resolve) => { finish = resolve; });
const worker = new Worker(name, async (job) => { lat.push(Date.now() - job.timestamp); },
                          { connection, concurrency: K, autorun: false });
worker.on("completed", () => { if (++done === N) finish(); });
await worker.waitUntilReady();
worker.run();

const t0 = performance.now();
let failures = 0;
await Promise.all(Array.from({ length: P }, async () => {
  for (let i = 0; i < N / P; i++) {
    if (RATE > 0) { // job i of each producer is due at i * P / RATE
      const wait = t0 + (i * P * 1000) / RATE - performance.now();
      if (wait > 0) await sleep(wait);
    }
    try { await queue.add("noop", { n: 1 }); } catch { failures++; }
  }
}));
const tEnq = performance.now();
await allDone;
const tEnd = performance.now();
lat.sort((a, b) => a - b);
const secs = (tEnd - t0) / 1000;
console.log(JSON.stringify({
  impl: "bullmq", rate: RATE, version: require("bullmq/package.json").version, jobs: N, workers: K,
  producers: P, done, enqueue_failures: failures, seconds: +secs.toFixed(3),
  enqueue_seconds: +((tEnq - t0) / 1000).toFixed(3), jobs_per_s: +(done / secs).toFixed(1),
  p50_ms: lat[Math.floor(lat.length / 2)], p99_ms: lat[Math.floor(lat.length * 0.99)],
}));
await worker.close();
await queue.close();
process.exit(0);
