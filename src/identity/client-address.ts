// The address a keyless caller is known by. The socket's peer is the caller, unless it is one of
// the configured proxies: then the forwarding headers say who the proxy talked to, read from the
// right (the hop our proxy added) leftwards past every trusted proxy; anything further left was
// written by the client and proves nothing. Untrusted peers' forwarding headers are ignored, so
// a client cannot pick a fresh identity per request by inventing X-Forwarded-For.
//
// Only the one header the proxies write is read (X-Forwarded-For by default, or RFC 7239's
// Forwarded): a proxy passes the other one through as the client sent it, so reading both would
// let a client name itself.
//
// IPv6 callers are grouped by /64 by default: one subscriber usually holds a whole /64 and can
// use any address in it, so per-address limits would be no limits at all. Providers that hand
// out a /56 or /48 per subscriber call for a shorter prefix (`limits.ipv6_prefix`).
import { BlockList, isIP } from 'node:net';

export type ProxyHeader = 'x-forwarded-for' | 'forwarded';

export interface ClientAddressOptions {
  /** The forwarding header the trusted proxies write (default x-forwarded-for). */
  proxyHeader?: ProxyHeader;
  /** IPv6 callers share one identity per prefix of this length (default 64). */
  ipv6Prefix?: number;
}

export class ClientAddresses {
  private readonly trusted = new BlockList();
  private readonly proxyHeader: ProxyHeader;
  private readonly ipv6Prefix: number;
  /** How many proxies (addresses or ranges) are trusted. */
  readonly size: number;

  constructor(trustedProxies: readonly string[], options: ClientAddressOptions = {}) {
    for (const entry of trustedProxies) addTrusted(this.trusted, entry);
    this.size = trustedProxies.length;
    this.proxyHeader = options.proxyHeader ?? 'x-forwarded-for';
    this.ipv6Prefix = options.ipv6Prefix ?? 64;
    if (!Number.isInteger(this.ipv6Prefix) || this.ipv6Prefix < 1 || this.ipv6Prefix > 128) throw new Error(`limits.ipv6_prefix: ${this.ipv6Prefix} is not a prefix length`);
  }

  /** The caller's address: the peer's, or the nearest untrusted hop named by trusted proxies. */
  resolve(peer: string | undefined, headers: Record<string, string | string[] | undefined>): string {
    const address = normalise(peer ?? '') ?? 'unknown';
    if (this.size === 0 || !this.isTrusted(address)) return address;
    const hops = forwardedHops(headers, this.proxyHeader);
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = normalise(hops[i]!);
      if (hop === undefined) return address; // a malformed hop: stop at the last address we trust to be true
      if (!this.isTrusted(hop)) return hop;
    }
    return hops.length > 0 ? normalise(hops[0]!) ?? address : address;
  }

  /** The rate-limit key of an address: IPv4 as is, IPv6 by its prefix (ip6:2001:0db8:0001:0002::/64). */
  limitKey(address: string): string {
    if (isIP(address) !== 6) return `ip:${address}`;
    const bits = this.ipv6Prefix;
    const groups = expandIpv6(address).slice(0, Math.ceil(bits / 16));
    const partial = bits % 16;
    if (partial > 0) {
      const last = parseInt(groups.pop()!, 16) & (0xffff << (16 - partial)) & 0xffff;
      groups.push(last.toString(16).padStart(4, '0'));
    }
    return `ip6:${groups.join(':')}${bits < 128 ? '::' : ''}/${bits}`;
  }

  private isTrusted(address: string): boolean {
    const family = isIP(address);
    return family !== 0 && this.trusted.check(address, family === 6 ? 'ipv6' : 'ipv4');
  }
}

function addTrusted(list: BlockList, entry: string): void {
  const [address, bits] = entry.split('/') as [string, string | undefined];
  const family = isIP(address);
  if (family === 0) throw new Error(`limits.trusted_proxies: "${entry}" is not an IP address or CIDR`);
  const type = family === 6 ? 'ipv6' : 'ipv4';
  if (bits === undefined) list.addAddress(address, type);
  else {
    const prefix = Number(bits);
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 6 ? 128 : 32)) throw new Error(`limits.trusted_proxies: "${entry}" has a bad prefix length`);
    list.addSubnet(address, prefix, type);
  }
}

/** Addresses named by X-Forwarded-For, or by Forwarded's for= parameters, leftmost first. */
function forwardedHops(headers: Record<string, string | string[] | undefined>, header: ProxyHeader): string[] {
  if (header === 'x-forwarded-for') {
    const xff = joined(headers['x-forwarded-for']);
    return xff ? xff.split(',').map((hop) => hop.trim()).filter(Boolean) : [];
  }
  const forwarded = joined(headers.forwarded);
  if (!forwarded) return [];
  const hops: string[] = [];
  for (const element of forwarded.split(',')) {
    const match = /(?:^|;)\s*for=("?)([^";,]+)\1/i.exec(element);
    if (match) hops.push(match[2]!.trim());
  }
  return hops;
}

const joined = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value.join(',') : value);

/** A bare address from a hop: ports and brackets dropped, IPv4-mapped IPv6 as IPv4; undefined if not an IP. */
function normalise(hop: string): string | undefined {
  let text = hop.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(text);
  if (bracketed) text = bracketed[1]!;
  else if (/^\d{1,3}(\.\d{1,3}){3}:\d+$/.test(text)) text = text.slice(0, text.lastIndexOf(':'));
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(text);
  if (mapped) text = mapped[1]!;
  const family = isIP(text);
  if (family === 0) return undefined;
  // The URL standard's IPv6 serialisation is the canonical, compressed form (RFC 5952).
  return family === 6 ? new URL(`http://[${text}]/`).hostname.slice(1, -1) : text;
}

/** The eight 16-bit groups of an IPv6 address, as 4-digit lowercase hex. */
function expandIpv6(address: string): string[] {
  let text = address.toLowerCase();
  // An embedded IPv4 tail (::ffff:1.2.3.4, 64:ff9b::1.2.3.4) becomes two groups.
  const v4 = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const middle = tail === undefined ? [] : Array(8 - left.length - right.length).fill('0');
  return [...left, ...middle, ...right].map((group) => group.padStart(4, '0'));
}
