// Child process for bench/tls-handshake.ts: our TLS server alone in its process, so its CPU can be
// measured the same way as openssl s_server's. argv: <config-json> ; prints "PORT <n>" when ready.
import { TlsContextRegistry, createTlsServer } from '../src/tls/index.js';

// bench/main.ts runs every script here; alone, this helper has nothing to do.
if (!process.argv[2] || !process.send) {
  console.log('(helper process of tls-handshake.ts; nothing to run on its own)');
  process.exit(0);
}
const cfg = JSON.parse(process.argv[2]);
const registry = await TlsContextRegistry.load(cfg.domains, { baseDir: cfg.baseDir });
let accepted = 0;
let refused = 0;
const server = createTlsServer({
  registry,
  domain: 'bench',
  onConnection: (s, id) => {
    if (id.verified) accepted++;
    s.on('error', () => {});
    s.resume();
  },
  onRefused: () => refused++,
});
server.listen(0, '127.0.0.1', () => {
  const a = server.address();
  console.log(`PORT ${typeof a === 'object' && a ? a.port : 0}`);
});
process.on('message', (m) => {
  if (m === 'stats') process.send?.({ accepted, refused });
  if (m === 'stop') server.close(() => process.exit(0));
});
