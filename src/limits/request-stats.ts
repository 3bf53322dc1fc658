// Request counts for the policy (`input.connection.stats`): the requests received in the last
// second and the last minute on a flow, and from a verified identity across all its flows. The
// gateway counts every request it receives before the policy sees it; the input encoder asks for
// the figures of the flow a message came in on.
import { RecentCount } from './recent-count.js';

interface FlowCounts {
  flow: RecentCount;
  identity?: RecentCount;
}

// by flow object: a flow's counts live as long as the flow (shared by every RequestStats, since
// the input encoder sees flows only)
const byFlow = new WeakMap<object, FlowCounts>();

const now = (): number => performance.now();

export class RequestStats {
  private readonly identities = new Map<string, RecentCount>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly maxIdentities = 100_000) {
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  /** One request received on `flow`, whose peer has the verified identity `identity` (if any). */
  count(flow: object, identity: string | undefined): void {
    const t = now();
    let c = byFlow.get(flow);
    if (c === undefined) {
      c = { flow: new RecentCount(t) };
      byFlow.set(flow, c);
    }
    c.flow.add(t);
    if (identity !== undefined) {
      // looked up each time: an identity idle for a minute is swept, its next request starts anew
      c.identity = this.identity(identity, t);
      c.identity.add(t);
    }
  }

  private identity(key: string, t: number): RecentCount {
    let r = this.identities.get(key);
    if (!r) {
      if (this.identities.size >= this.maxIdentities) this.sweep();
      r = new RecentCount(t);
      this.identities.set(key, r);
    }
    return r;
  }

  private sweep(): void {
    const t = now();
    for (const [k, r] of this.identities) if (r.idle(t)) this.identities.delete(k);
  }

  close(): void {
    clearInterval(this.sweeper);
  }
}

/** The stats of `flow` as the policy input's `connection.stats` object. */
export function requestStats(flow: object): { flow: Window; identity?: Window } {
  const c = byFlow.get(flow);
  const t = now();
  const w = (r: RecentCount | undefined): Window => ({ last_second: r ? r.lastSecond(t) : 0, last_minute: r ? r.lastMinute(t) : 0 });
  return c?.identity ? { flow: w(c.flow), identity: w(c.identity) } : { flow: w(c?.flow) };
}

/** The same as JSON text, exactly as JSON.stringify(requestStats(flow)) writes it. */
export function requestStatsJson(flow: object): string {
  const c = byFlow.get(flow);
  if (c === undefined) return '{"flow":{"last_second":0,"last_minute":0}}';
  const t = now();
  const f = `{"flow":{"last_second":${c.flow.lastSecond(t)},"last_minute":${c.flow.lastMinute(t)}}`;
  return c.identity ? `${f},"identity":{"last_second":${c.identity.lastSecond(t)},"last_minute":${c.identity.lastMinute(t)}}}` : f + '}';
}

export interface Window {
  last_second: number;
  last_minute: number;
}
