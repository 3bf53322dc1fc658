// Slow readers: a peer that stops reading first fills the kernel's buffers, then the process's
// write queue for its connection. The guard looks at that queue after each batch of writes:
// more than `maxQueueBytes` waiting, or queued bytes making no progress for `sendTimeoutMs`,
// and it calls `onStall` (the flow closes the connection). Nothing runs while the queue is
// empty, the normal case: one property read per batch.
import type { WriteLimits } from './config.js';

/** What the guard needs of a socket (net.Socket and tls.TLSSocket fit). */
export interface QueuedWriter {
  readonly writableLength: number;
}

export type StallReason = 'write_queue' | 'send_timeout';

export class WriteGuard {
  /** bytes handed to the socket since it was opened */
  private written = 0;
  /** bytes drained (written − queued) when the timer was armed */
  private drainedAtArm = 0;
  private timer: NodeJS.Timeout | undefined;
  private stalled = false;

  constructor(
    private readonly socket: QueuedWriter,
    private readonly limits: WriteLimits,
    private readonly onStall: (reason: StallReason, queuedBytes: number) => void,
  ) {}

  /** `n` bytes were handed to the socket. */
  wrote(n: number): void {
    this.written += n;
  }

  /** After a batch of writes: the queue is over its limit, or a timer watches it drain. */
  check(): void {
    if (this.stalled) return;
    const queued = this.socket.writableLength;
    if (queued === 0) return this.disarm();
    if (queued > this.limits.maxQueueBytes) return this.stall('write_queue', queued);
    if (this.timer === undefined) this.arm(queued);
  }

  private arm(queued: number): void {
    this.drainedAtArm = this.written - queued;
    this.timer = setTimeout(() => this.onTimer(), this.limits.sendTimeoutMs);
    this.timer.unref();
  }

  private onTimer(): void {
    this.timer = undefined;
    const queued = this.socket.writableLength;
    if (queued === 0) return;
    // progress: the peer took bytes since the timer was armed (a slow but reading peer)
    if (this.written - queued > this.drainedAtArm) return this.arm(queued);
    this.stall('send_timeout', queued);
  }

  private disarm(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private stall(reason: StallReason, queued: number): void {
    this.stalled = true;
    this.disarm();
    this.onStall(reason, queued);
  }

  /** The connection closed: no timer left behind. */
  stop(): void {
    this.stalled = true;
    this.disarm();
  }
}
