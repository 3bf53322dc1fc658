// Orderly close of a TLS connection we refuse (server or client side).
import type * as tls from 'node:tls';

/**
 * Ends a refused connection the orderly way: close_notify and FIN (TLSSocket#end), so the peer
 * sees a TLS-level close rather than a reset; destroyed anyway if the peer does not close in time.
 */
export function closeCleanly(socket: tls.TLSSocket, graceMs = 2000): void {
  socket.on('error', () => {});
  const t = setTimeout(() => socket.destroy(), graceMs);
  t.unref();
  socket.once('close', () => clearTimeout(t));
  socket.end();
}
