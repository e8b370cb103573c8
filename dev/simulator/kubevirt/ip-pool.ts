/**
 * Pod-network addresses for VMI interfaces: unique per VMI, stable for the VMI's life (the same
 * VMI uid always gets the same addresses back), released when the VMI is deleted.
 *
 * IPv4 only. Addresses already shown on existing VMIs are reserved when the simulator starts,
 * so a restarted simulator never hands out an address twice.
 */
export class IpPool {
  private readonly base: number;
  private readonly size: number;
  private readonly byOwner = new Map<string, string[]>();
  private readonly owners = new Map<number, string>();
  private cursor = 0;

  constructor(cidr: string) {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr.trim());
    const octets = m ? m.slice(1, 5).map(Number) : [];
    const prefix = m ? Number(m[5]) : NaN;
    if (!m || octets.some((o) => o > 255) || prefix > 30) {
      throw new Error(`ipPool ${JSON.stringify(cidr)}: expected an IPv4 CIDR with a prefix of at most /30`);
    }
    const addr = octets.reduce((acc, o) => acc * 256 + o, 0);
    this.size = 2 ** (32 - prefix);
    this.base = addr - (addr % this.size);
  }

  /** Addresses usable for VMIs: not the network, the gateway (.1) or the broadcast address. */
  private usable(offset: number): boolean {
    return offset >= 2 && offset < this.size - 1;
  }

  /** Marks `ips` (from an observed VMI's status) as taken by `owner`. Out-of-pool addresses are ignored. */
  reserve(owner: string, ips: string[]): void {
    const mine = this.byOwner.get(owner) ?? [];
    for (const ip of ips) {
      const n = toNumber(ip);
      if (n === undefined || n < this.base || n >= this.base + this.size) continue;
      if (this.owners.has(n)) continue;
      this.owners.set(n, owner);
      mine.push(ip);
    }
    if (mine.length > 0) this.byOwner.set(owner, mine);
  }

  /** `count` addresses for `owner`: the ones it already holds first, then free ones. */
  allocate(owner: string, count: number): string[] {
    const mine = [...(this.byOwner.get(owner) ?? [])];
    while (mine.length < count) {
      let found: number | undefined;
      for (let i = 0; i < this.size; i++) {
        const offset = (this.cursor + i) % this.size;
        if (this.usable(offset) && !this.owners.has(this.base + offset)) {
          found = this.base + offset;
          this.cursor = offset + 1;
          break;
        }
      }
      if (found === undefined) throw new Error(`ipPool exhausted (${this.owners.size} addresses in use)`);
      this.owners.set(found, owner);
      mine.push(toDotted(found));
    }
    this.byOwner.set(owner, mine);
    return mine.slice(0, count);
  }

  release(owner: string): void {
    for (const ip of this.byOwner.get(owner) ?? []) {
      const n = toNumber(ip);
      if (n !== undefined && this.owners.get(n) === owner) this.owners.delete(n);
    }
    this.byOwner.delete(owner);
  }

  get inUse(): number {
    return this.owners.size;
  }
}

function toNumber(ip: string): number | undefined {
  const parts = ip.replace(/\/\d+$/, '').split('.');
  if (parts.length !== 4) return undefined;
  const nums = parts.map(Number);
  if (nums.some((n) => !Number.isInteger(n) || n < 0 || n > 255)) return undefined;
  return nums.reduce((acc, o) => acc * 256 + o, 0);
}

function toDotted(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** A locally administered unicast MAC derived from the address, so it is as unique as the IP. */
export function macFor(ip: string): string {
  const n = toNumber(ip) ?? 0;
  const bytes = [0x02, 0x00, ...[24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256)];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}
