/** Loopback ports and the host facts kube-apiserver's address defaulting depends on. */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';

/**
 * A port that was free on 127.0.0.1 a moment ago. The kernel picks it, so parallel runs do
 * not collide on fixed ports; the short window until the component binds it is accepted.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** True when /proc/net/route has a default (0.0.0.0/0) IPv4 route. */
export function hasDefaultRoute(): boolean {
  try {
    return readFileSync('/proc/net/route', 'utf8')
      .split('\n')
      .slice(1)
      .some((line) => line.trim().split(/\s+/)[1] === '00000000');
  } catch {
    return false;
  }
}

/** The first non-loopback IPv4 address of this host, if any. */
export function hostIPv4(): string | undefined {
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}
