// `bastion` from the sources (for child processes in the interop benchmark: node --import tsx).
// BENCH_LOOP_DELAY=1 prints the event loop's delay (max, p99) and memory every 5 s to stderr.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { main } from '../../src/cli/main.js';
if (process.env.BENCH_LOOP_DELAY === '1') {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  setInterval(() => {
    const m = process.memoryUsage();
    const mb = (n: number) => (n / 1048576).toFixed(0);
    process.stderr.write(`loop delay max ${(h.max / 1e6).toFixed(0)} ms p99 ${(h.percentile(99) / 1e6).toFixed(0)} ms; rss ${mb(m.rss)} heap ${mb(m.heapUsed)}/${mb(m.heapTotal)} external ${mb(m.external)} arrayBuffers ${mb(m.arrayBuffers)} MB\n`);
    h.reset();
  }, 5000).unref();
}
await main(process.argv);
