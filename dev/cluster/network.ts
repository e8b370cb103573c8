/** Loopback ports and the host facts kube-apiserver's address defaulting depends on. */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';

/**
 * A port that was free on 127.0.0.1 a moment ago, for a component to bind. Picked at random
 * below the kernel's ephemeral range (`ip_local_port_range`, 32768–60999 by default): a port the
 * kernel chose for us would be back in its pool the moment we release it, and any process
 * listening on port 0 could take it before the component binds it (a function server then
 * failed with EADDRINUSE on every restart while another process answered on its port).
 * Parallel runs do not collide on fixed ports; two pickers drawing the same port at the same
 * moment remain possible and are accepted.
 */
export async function freePort(): Promise<number> {
  const [low, high] = pickRange();
  if (high <= low) return kernelPort();
  for (let i = 0; i < 64; i++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (await canListen(port)) return port;
  }
  return kernelPort();
}

/** Ports from 20000 up to the start of the ephemeral range (empty when that starts lower). */
function pickRange(): [number, number] {
  let start = 32768;
  try {
    start = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || start;
  } catch {
    // not Linux: assume the IANA dynamic range starts at 49152, keep the Linux default's margin
  }
  return [20000, Math.min(start, 32768)];
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** The kernel's choice (the fallback when no range below the ephemeral one exists). */
function kernelPort(): Promise<number> {
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
