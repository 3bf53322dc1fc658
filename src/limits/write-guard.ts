// Slow readers: a peer that stops reading first fills the kernel's buffers, then the process's
// write queue for its connection. The guard looks at that queue after each batch of writes:
// more than `maxQueueBytes` still waiting a moment later, or queued bytes making no progress for
// `sendTimeoutMs`, and it calls `onStall` (the flow closes the connection). Nothing runs while
// the queue is empty, the normal case: one property read per batch.
//
// Right after a batch the queue holds the whole batch (a TLS socket counts its bytes until their
// write completes, a loop turn later, even when the kernel took them at once): a burst larger
// than the limit towards a peer that reads is not a slow reader. So the limit is checked again
// `confirmMs` later, after the socket had its chance to drain.
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
  private confirm: NodeJS.Timeout | undefined;
  private readonly confirmMs: number;

  constructor(
    private readonly socket: QueuedWriter,
    private readonly limits: WriteLimits,
    private readonly onStall: (reason: StallReason, queuedBytes: number) => void,
  ) {
    this.confirmMs = Math.min(100, limits.sendTimeoutMs);
  }

  /** `n` bytes were handed to the socket. */
  wrote(n: number): void {
    this.written += n;
  }

  /** After a batch of writes: the queue is over its limit, or a timer watches it drain. */
  check(): void {
    if (this.stalled) return;
    const queued = this.socket.writableLength;
    if (queued === 0) return this.disarm();
    if (queued > this.limits.maxQueueBytes && this.confirm === undefined) {
      this.confirm = setTimeout(() => this.confirmOverLimit(), this.confirmMs);
      this.confirm.unref();
    }
    if (this.timer === undefined) this.arm(queued);
  }

  private confirmOverLimit(): void {
    this.confirm = undefined;
    if (this.stalled) return;
    const queued = this.socket.writableLength;
    if (queued > this.limits.maxQueueBytes) this.stall('write_queue', queued);
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

  private disarmConfirm(): void {
    if (this.confirm !== undefined) {
      clearTimeout(this.confirm);
      this.confirm = undefined;
    }
  }

  private stall(reason: StallReason, queued: number): void {
    this.stalled = true;
    this.disarm();
    this.disarmConfirm();
    this.onStall(reason, queued);
  }

  /** The connection closed: no timer left behind. */
  stop(): void {
    this.stalled = true;
    this.disarm();
    this.disarmConfirm();
  }
}
