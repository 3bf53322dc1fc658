// Where log lines (decision lines included) go: a file written asynchronously in batches, or
// stdout. The sink is pino's destination, and lines built elsewhere (e.g. off the main thread)
// can be handed to write() directly.
//
// Durability: a file sink batches writes (one write(2) per line cost more than building the
// line) but hands what it holds to the OS at least once a second (SonicBoom's periodic flush,
// every 500 ms: a batch that was being written at one tick goes out at the next), so a crash or
// SIGKILL loses at most about a second of lines. close() writes everything before it resolves
// (orderly stop); flushSync() writes synchronously (an uncaught error, just before exit).
// reopen() reopens the file under its name (logrotate's postrotate: SIGUSR1); with `rotate`,
// pino-roll rolls the file by size and/or time itself.
import { pino } from 'pino';
import pinoRoll from 'pino-roll';

export interface LogSink {
  /** one or more complete lines */
  write(chunk: string): boolean;
  /** hands buffered lines to the OS now; cb once they are written */
  flush(cb?: (err?: Error | null) => void): void;
  /** the same, synchronously (before exit on an uncaught error) */
  flushSync(): void;
  /** reopens the file under its configured name (after logrotate moved it) */
  reopen(): void;
  /** writes what is buffered and closes the file */
  close(): Promise<void>;
  /** the file written to now (rolled files change name), or undefined for stdout */
  readonly file: string | undefined;
}

export interface LogSinkOptions {
  /** absent: stdout (synchronous writes) */
  file?: string;
  rotate?: { size?: string; frequency?: 'daily' | 'hourly' | number; keep?: number };
  /** how often a file's buffered lines are handed to the OS (default 500 ms: at most ~1 s is ever buffered) */
  flushIntervalMs?: number;
  /** lines buffered before a write (default 8 KiB) */
  minLength?: number;
  /** every decision line is also handed here (an uploader) */
  onDecisionLine?: (line: string) => void;
}

type Destination = ReturnType<typeof pino.destination>;

const DECISION_TAIL = '"msg":"decision"}\n';

/** Hands each decision line of a chunk to `tee` (an evaluation pool writes several lines at once). */
function teeDecisionLines(chunk: string, tee: (line: string) => void): void {
  let start = 0;
  for (let end = chunk.indexOf('\n'); end >= 0; end = chunk.indexOf('\n', start)) {
    const line = start === 0 && end === chunk.length - 1 ? chunk : chunk.slice(start, end + 1);
    start = end + 1;
    if (!line.endsWith(DECISION_TAIL)) continue;
    try {
      tee(line);
    } catch {
      // the upload must never stop the log
    }
  }
}

class SonicSink implements LogSink {
  /** write() takes chunks of several lines (an evaluation pool's decision lines) */
  readonly acceptsManyLines = true;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly dest: Destination,
    private readonly opts: LogSinkOptions,
    private readonly name: () => string | undefined,
  ) {
    // a write error (disk full, file removed under us) must not take the process down
    dest.on('error', () => {});
  }

  get file(): string | undefined {
    return this.name();
  }

  write(chunk: string): boolean {
    const tee = this.opts.onDecisionLine;
    if (tee) teeDecisionLines(chunk, tee);
    if (this.closing) return false;
    return this.dest.write(chunk);
  }

  flush(cb?: (err?: Error | null) => void): void {
    try {
      this.dest.flush(cb ?? (() => {}));
    } catch (e) {
      cb?.(e as Error);
    }
  }

  flushSync(): void {
    try {
      this.dest.flushSync();
    } catch {
      // not open yet, or closed: nothing more can be done synchronously
    }
  }

  reopen(): void {
    if (this.opts.file === undefined || this.closing) return;
    try {
      this.dest.reopen();
    } catch {
      // closed meanwhile
    }
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      if (this.opts.file === undefined) {
        // stdout is the process's: flushed (synchronous writes), never closed here
        this.flushSync();
        resolve();
        return;
      }
      const done = () => resolve();
      this.dest.once('close', done);
      this.dest.once('error', done);
      try {
        this.dest.end();
      } catch {
        resolve();
      }
    });
    return this.closing;
  }
}

/** Opens the log destination described by `opts` (a file is created with its folder as needed). */
export async function openLogSink(opts: LogSinkOptions): Promise<LogSink> {
  if (opts.file === undefined) {
    const dest = pino.destination({ dest: 1, sync: true });
    return new SonicSink(dest, opts, () => undefined);
  }
  const common = { sync: false, minLength: opts.minLength ?? 8 * 1024, periodicFlush: opts.flushIntervalMs ?? 500, mkdir: true };
  if (opts.rotate) {
    const r = opts.rotate;
    const dest = (await pinoRoll({
      file: opts.file,
      ...(r.size !== undefined ? { size: r.size } : {}),
      ...(r.frequency !== undefined ? { frequency: r.frequency } : {}),
      ...(r.keep !== undefined ? { limit: { count: r.keep } } : {}),
      ...common,
    })) as unknown as Destination & { file?: string };
    return new SonicSink(dest, opts, () => dest.file);
  }
  const dest = pino.destination({ dest: opts.file, ...common });
  await new Promise<void>((resolve, reject) => {
    if ((dest as unknown as { fd: number }).fd >= 0) return resolve();
    dest.once('ready', () => resolve());
    dest.once('error', reject);
  });
  return new SonicSink(dest, opts, () => opts.file);
}
