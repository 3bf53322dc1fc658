// An OCSP responder for tests: Debian's `openssl ocsp` answers every request (its index file says
// who is revoked), behind a small HTTP front on 127.0.0.1, ephemeral port (`openssl ocsp -port`
// binds every address, so it runs once per request with -reqin/-respout). Stops with close().
// Test-only code.
import * as http from 'node:http';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { IssuedCertificate } from '../pki/index.js';
import { certInfo } from '../certinfo.js';

export interface ResponderFiles {
  /** folder for the index and the request/response files */
  dir: string;
  /** PEM of the issuing CA and of the responder's certificate and key (the CA itself, or a delegate) */
  caPem: string;
  signerCertPem: string;
  signerKeyPem: string;
}

export class OcspResponder {
  queries = 0;
  url = '';
  /** answers stop until set back to false (a responder that is down) */
  failing = false;
  private readonly server: http.Server;
  private entries: string[] = [];
  /** next update: minutes after this update (openssl ocsp -nmin) */
  nextUpdateMinutes = 60;

  constructor(private readonly files: ResponderFiles) {
    writeFileSync(join(files.dir, 'ocsp-ca.pem'), files.caPem);
    writeFileSync(join(files.dir, 'ocsp-signer.pem'), files.signerCertPem);
    writeFileSync(join(files.dir, 'ocsp-signer.key'), files.signerKeyPem);
    this.writeIndex();
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        const n = ++this.queries;
        if (this.failing) {
          res.writeHead(503);
          res.end('down');
          return;
        }
        const reqFile = join(files.dir, `ocsp-req${n}.der`);
        const respFile = join(files.dir, `ocsp-resp${n}.der`);
        writeFileSync(reqFile, Buffer.concat(chunks));
        const d = files.dir;
        const p = spawn('openssl', ['ocsp', '-index', join(d, 'ocsp-index.txt'), '-CA', join(d, 'ocsp-ca.pem'), '-rsigner', join(d, 'ocsp-signer.pem'), '-rkey', join(d, 'ocsp-signer.key'), '-reqin', reqFile, '-respout', respFile, '-nmin', String(this.nextUpdateMinutes)], { stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        p.stderr!.on('data', (x) => (err += x));
        p.on('exit', (code) => {
          if (code !== 0) {
            res.writeHead(500);
            res.end(err);
            return;
          }
          res.writeHead(200, { 'content-type': 'application/ocsp-response' });
          res.end(readFileSync(respFile));
        });
      });
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
    return this.url;
  }

  /** Lists a certificate as good (V) or revoked (R) in the index. */
  set(c: IssuedCertificate, status: 'good' | 'revoked'): void {
    const t = (d: Date) => d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
    const serial = certInfo(new Uint8Array(c.cert.rawData)).serial.toUpperCase();
    this.entries = this.entries.filter((l) => l.split('\t')[3] !== serial);
    const revoked = status === 'revoked';
    this.entries.push([revoked ? 'R' : 'V', t(c.cert.notAfter), revoked ? t(new Date(Date.now() - 60_000)) : '', serial, 'unknown', `/CN=${serial}`].join('\t'));
    this.writeIndex();
  }

  private writeIndex(): void {
    writeFileSync(join(this.files.dir, 'ocsp-index.txt'), this.entries.map((l) => l + '\n').join(''));
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}
