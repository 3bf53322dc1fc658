// The log file: live within about a second, complete after close(), reopened under its name after
// a rename (logrotate), rolled by size through pino-roll; decision lines teed to an uploader.
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLogSink } from './log-sink.js';

const dir = mkdtempSync(join(tmpdir(), 'bastion-sink-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const read = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8') : '');
async function until(pred: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('file log sink', () => {
  it('a line far below the batch size reaches the file without a stop (periodic flush)', async () => {
    const file = join(dir, 'live', 'bastion.log'); // the folder is created
    const sink = await openLogSink({ file });
    sink.write('{"msg":"one"}\n');
    expect(read(file)).toBe(''); // batched
    const t0 = Date.now();
    await until(() => read(file).includes('"one"'));
    expect(Date.now() - t0).toBeLessThan(5000);
    await sink.close();
  });

  it('close() writes everything buffered', async () => {
    const file = join(dir, 'close.log');
    const sink = await openLogSink({ file, flushIntervalMs: 60_000 });
    for (let i = 0; i < 100; i++) sink.write(`{"n":${i}}\n`);
    await sink.close();
    expect(read(file).trim().split('\n')).toHaveLength(100);
  });

  it('flushSync() writes everything buffered at once', async () => {
    const file = join(dir, 'sync.log');
    const sink = await openLogSink({ file, flushIntervalMs: 60_000 });
    sink.write('{"msg":"pending"}\n');
    sink.flushSync();
    expect(read(file)).toBe('{"msg":"pending"}\n');
    await sink.close();
  });

  it('reopen() after logrotate moved the file writes a new file under the configured name', async () => {
    const file = join(dir, 'rot.log');
    const sink = await openLogSink({ file });
    sink.write('{"msg":"before"}\n');
    await new Promise<void>((r) => sink.flush(() => r()));
    renameSync(file, `${file}.1`);
    sink.reopen();
    await until(() => existsSync(file));
    sink.write('{"msg":"after"}\n');
    await sink.close();
    expect(read(`${file}.1`)).toBe('{"msg":"before"}\n');
    expect(read(file)).toBe('{"msg":"after"}\n');
  });

  it('rotate.size rolls the file through pino-roll (numbered files)', async () => {
    const base = join(dir, 'roll', 'gw.log');
    const sink = await openLogSink({ file: base, rotate: { size: '1k', keep: 5 }, minLength: 0 });
    const line = JSON.stringify({ pad: 'x'.repeat(200) }) + '\n';
    for (let i = 0; i < 20; i++) {
      sink.write(line);
      await new Promise<void>((r) => sink.flush(() => r()));
      await new Promise((r) => setTimeout(r, 10)); // the roll itself is asynchronous
    }
    await sink.close();
    const files = readdirSync(join(dir, 'roll')).filter((f) => /^gw\.\d+\.log$/.test(f));
    expect(files.length).toBeGreaterThan(2);
    const total = files.map((f) => read(join(dir, 'roll', f))).join('');
    expect(total.split('\n').filter(Boolean)).toHaveLength(20);
  });

  it('decision lines (and only those) are handed to onDecisionLine', async () => {
    const seen: string[] = [];
    const sink = await openLogSink({ file: join(dir, 'tee.log'), onDecisionLine: (l) => void seen.push(l) });
    sink.write('{"level":30,"msg":"listening"}\n');
    sink.write('{"level":30,"decision_id":"d1","msg":"decision"}\n');
    await sink.close();
    expect(seen).toEqual(['{"level":30,"decision_id":"d1","msg":"decision"}\n']);
  });

  it('a chunk of several lines (an evaluation pool writes them at once) is teed line by line', async () => {
    const seen: string[] = [];
    const file = join(dir, 'tee-many.log');
    const sink = await openLogSink({ file, onDecisionLine: (l) => void seen.push(l) });
    expect((sink as unknown as { acceptsManyLines?: boolean }).acceptsManyLines).toBe(true);
    sink.write('{"decision_id":"d1","msg":"decision"}\n{"level":30,"msg":"other"}\n{"decision_id":"d2","msg":"decision"}\n');
    await sink.close();
    expect(seen).toEqual(['{"decision_id":"d1","msg":"decision"}\n', '{"decision_id":"d2","msg":"decision"}\n']);
    expect(read(file).trim().split('\n')).toHaveLength(3);
  });
});
