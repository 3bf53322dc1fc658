// Helpers for tests that need real TLS endpoints on 127.0.0.1 (used by src/tls tests; the SIP and
// gateway tests may use them too). Nothing here is used at run time.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { IssuedCertificate } from './pki/authority.js';

/** Whether Debian's openssl command is installed (tests against s_client/s_server/ocsp). */
export const hasOpenssl = spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;

/** A temporary folder for PEM files; `write` returns the absolute path. */
export class TempDir {
  readonly path = mkdtempSync(join(tmpdir(), 'bastion-tls-'));
  write(name: string, content: string | Uint8Array): string {
    const p = join(this.path, name);
    writeFileSync(p, content);
    return p;
  }
  /** Writes `<name>.pem` (leaf + intermediates) and `<name>.key`; returns both paths. */
  writeCert(name: string, c: IssuedCertificate): { cert: string; key: string } {
    return { cert: this.write(`${name}.pem`, c.chainPem), key: this.write(`${name}.key`, c.keyPem) };
  }
  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

/** Listens on 127.0.0.1, ephemeral port; resolves the port. */
export function listen(server: tls.Server | import('node:net').Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

export function close(server: tls.Server | import('node:net').Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

export interface RawClientResult {
  /** Handshake completed from the client's point of view. */
  connected: boolean;
  error?: string;
  socket?: tls.TLSSocket;
}

/**
 * A plain Node TLS client (not our connectTls) presenting `cert`, for testing the server side.
 * Resolves when the handshake completes (socket left open) or fails. Whether the server kept the
 * connection is observed on the server side (onConnection / onRefused), never by timing.
 */
export function rawClient(
  port: number,
  opts: { cert?: IssuedCertificate; ca?: string; servername?: string; session?: Buffer; maxVersion?: tls.SecureVersion } = {},
): Promise<RawClientResult> {
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      cert: opts.cert?.chainPem,
      key: opts.cert?.keyPem,
      ca: opts.ca ?? [],
      servername: opts.servername,
      rejectUnauthorized: false,
      session: opts.session,
      maxVersion: opts.maxVersion,
    });
    socket.on('secureConnect', () => {
      socket.resume();
      resolve({ connected: true, socket });
    });
    socket.on('error', (e) => resolve({ connected: false, error: (e as NodeJS.ErrnoException).code ?? e.message }));
  });
}

/** Resolves the next TLS session ticket the client receives. */
export function nextSession(socket: tls.TLSSocket): Promise<Buffer> {
  return new Promise((resolve) => socket.once('session', resolve));
}
