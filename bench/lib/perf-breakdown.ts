// Breaks a `perf record -g` profile of the gateway down by what the CPU was doing: each sample is
// attributed to the first category found walking its stack from the leaf towards the root (so a
// JSON.stringify called by the policy-input builder counts as "policy input"), and to its thread.
// JIT frames come from --perf-basic-prof; inlining can hide a caller, so the categories are
// coarse on purpose. Used by gateway-cpu.ts (BENCH_PERF=1); also runnable on a perf.data file:
//   npx tsx bench/lib/perf-breakdown.ts /path/to/perf.data
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const PAGE_FAULT = /exc_page_fault|do_anonymous_page|clear_page/;
const CATEGORIES: Array<[string, RegExp]> = [
  ['GC', /Scavenger|ScavengeObject|MarkCompact|ConcurrentMarking|Heap::|GCTracer|Sweeper|MinorMarkSweep|IncrementalMarking|MarkingVisitor/],
  ['policy: wasm evaluation', /wasm-function|wasm-to-js|js-to-wasm/],
  ['policy: SDK marshalling', /opa-wasm\/src\/opa\.js/],
  ['policy: eval pool', /src\/policy\/pool\/|eval-pool/],
  // (ajv's generated functions are validate0, validate12, ...; validateMessage is the SIP parser's)
  ['policy: decision validation (ajv)', /\bvalidate\d+\b|ajv\//],
  ['policy: decision log', /decision-log\.ts|pino|sonic-boom/],
  ['policy: engine', /src\/policy\/engine\.ts|encoded-input\.ts/],
  ['policy input (normalize, JSON)', /src\/sip\/normalize\.ts|src\/gateway\/input\.ts/],
  ['SIP framing', /src\/sip\/framing\.ts/],
  ['SIP parse/serialize', /src\/sip\/(parser|message|via|address|uri|syntax|header-names|build|scan)\.ts/],
  ['SIP transactions + timers', /src\/sip\/transaction\.ts|node:internal\/timers|listOnTimeout|processTimers/],
  ['proxy', /src\/gateway\/(proxy|action|nexthop|transports)\.ts/],
  ['flow (stream glue)', /src\/gateway\/flow\.ts/],
  ['OpenSSL crypto', /libcrypto|aesni|gcm_|sha\d+_block|ChaCha|poly1305|EVP_/],
  ['OpenSSL TLS records', /libssl|SSL_|ssl3_|tls1_|tls_/],
  ['node TLS/stream glue', /TLSWrap|StreamBase|LibuvStreamWrap|stream_base_commons|internal\/streams|_tls_wrap|node:net|WriteWrap|ShutdownWrap/],
  ['kernel: network', /tcp_|ip_|__sys_sendto|__sys_recvfrom|sock_|skb|__x64_sys_(write|read|sendmsg|recvmsg|writev)|udp_|netif|net_rx|loopback|__dev_queue/],
  ['kernel: scheduler/futex/epoll', /futex|schedule|epoll|ep_poll|pvm_|do_syscall_64|entry_SYSCALL|__x64_sys/],
  ['malloc', /malloc|_int_free|unlink_chunk|cfree|\bfree\b/],
  ['other JS (node internals)', /JS:/],
];

export interface Breakdown {
  total: number;
  byCategory: Map<string, number>;
  byThread: Map<string, number>;
  /** categories per thread */
  threadCategories: Map<string, Map<string, number>>;
}

export function breakdown(perfData: string): Breakdown {
  const r = spawnSync('perf', ['script', '-i', perfData, '-F', 'comm,tid,period,ip,sym,dso'], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const byCategory = new Map<string, number>();
  const byThread = new Map<string, number>();
  const threadCategories = new Map<string, Map<string, number>>();
  let total = 0;
  for (const block of r.stdout.split('\n\n')) {
    const lines = block.split('\n').filter((l) => l.trim());
    if (lines.length === 0) continue;
    const head = lines[0]!.trim().split(/\s+/);
    const thread = `${head[0] ?? '?'} ${head[1] ?? ''}`;
    const frames = lines.slice(1).map((l) => l.trim());
    // a page fault is charged as such whatever code touched the page
    let cat = frames.some((f) => PAGE_FAULT.test(f)) ? 'page faults (kernel)' : 'other native';
    if (cat === 'other native') outer: for (const f of frames) {
      for (const [name, re] of CATEGORIES) {
        if (re.test(f)) {
          cat = name;
          break outer;
        }
      }
    }
    total++;
    byCategory.set(cat, (byCategory.get(cat) ?? 0) + 1);
    byThread.set(thread, (byThread.get(thread) ?? 0) + 1);
    let tc = threadCategories.get(thread);
    if (!tc) threadCategories.set(thread, (tc = new Map()));
    tc.set(cat, (tc.get(cat) ?? 0) + 1);
  }
  return { total, byCategory, byThread, threadCategories };
}

export function printBreakdown(b: Breakdown, usPerSample?: number): void {
  const pct = (n: number) => ((n / Math.max(1, b.total)) * 100).toFixed(1).padStart(5) + ' %';
  const us = (n: number) => (usPerSample ? `  ${(n * usPerSample).toFixed(0).padStart(5)} µs/call` : '');
  console.log(`CPU by category (${b.total} samples):`);
  for (const [k, v] of [...b.byCategory.entries()].sort((a, c) => c[1] - a[1])) console.log(`  ${pct(v)}${us(v)}  ${k}`);
  console.log('CPU by thread (the two busiest: their top categories):');
  const threads = [...b.byThread.entries()].sort((a, c) => c[1] - a[1]);
  threads.forEach(([k, v], i) => {
    console.log(`  ${pct(v)}${us(v)}  ${k}`);
    if (i < 2) {
      const cats = [...b.threadCategories.get(k)!.entries()].sort((a, c) => c[1] - a[1]).slice(0, 12);
      console.log('      ' + cats.map(([c, n]) => `${c} ${((n / v) * 100).toFixed(0)}%`).join(', '));
    }
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) printBreakdown(breakdown(process.argv[2]!));
