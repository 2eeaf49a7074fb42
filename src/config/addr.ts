// Address forms in config.toml. The RPC server speaks CometBFT's "tcp://host:port"; p2p is
// libp2p, so its addresses are multiaddrs ("/ip4/1.2.3.4/tcp/26656[/p2p/<peer id>]"). Operators
// used to CometBFT may write "tcp://host:port" for p2p.laddr: it is converted. CometBFT's
// "<hex id>@host:port" peer form cannot be converted (a hex address is not a libp2p peer id), so
// it gets an error that says what to write instead.
import { isIP } from 'node:net';
import { peerIdFromString } from '@libp2p/peer-id';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

function parsePort(s: string): number | undefined {
  if (!/^\d{1,5}$/.test(s)) return undefined;
  const n = Number(s);
  return n <= 65535 ? n : undefined;
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

function validHost(host: string): boolean {
  return isIP(host) !== 0 || HOSTNAME.test(host);
}

/** "host:port", "[v6]:port" or ":port" (any interface). Returns a message on failure. */
export function parseHostPort(s: string, allowEmptyHost: boolean): HostPort | string {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]/\s]*)):([^:]*)$/.exec(s);
  if (!m) return `expected host:port, got ${JSON.stringify(s)}`;
  const host = m[1] ?? m[2] ?? '';
  const port = parsePort(m[3] ?? '');
  if (port === undefined) return `bad port in ${JSON.stringify(s)}`;
  if (host === '' ? !allowEmptyHost : !validHost(host)) return `bad host in ${JSON.stringify(s)}`;
  return { host, port };
}

/** "tcp://host:port". Returns a message on failure. */
export function parseTcpUrl(s: string): HostPort | string {
  if (!s.startsWith('tcp://')) return `expected tcp://host:port, got ${JSON.stringify(s)}`;
  return parseHostPort(s.slice('tcp://'.length), false);
}

const MULTIADDR = /^\/(ip4|ip6|dns|dns4|dns6)\/([^/]+)\/tcp\/([^/]+)(?:\/p2p\/([^/]+))?$/;

export interface ParsedMultiaddr {
  readonly proto: 'ip4' | 'ip6' | 'dns' | 'dns4' | 'dns6';
  readonly host: string;
  readonly port: number;
  readonly peerId?: string;
}

/** The TCP multiaddr subset Tally uses. Returns a message on failure. */
export function parseMultiaddr(s: string): ParsedMultiaddr | string {
  const m = MULTIADDR.exec(s);
  if (!m) return `expected a multiaddr like /ip4/1.2.3.4/tcp/26656, got ${JSON.stringify(s)}`;
  const proto = m[1] as ParsedMultiaddr['proto'];
  const host = m[2]!;
  const port = parsePort(m[3]!);
  if (port === undefined) return `bad port in ${JSON.stringify(s)}`;
  if (proto === 'ip4' && isIP(host) !== 4) return `bad IPv4 address in ${JSON.stringify(s)}`;
  if (proto === 'ip6' && isIP(host) !== 6) return `bad IPv6 address in ${JSON.stringify(s)}`;
  if (proto.startsWith('dns') && !HOSTNAME.test(host)) return `bad DNS name in ${JSON.stringify(s)}`;
  const peerId = m[4];
  if (peerId !== undefined) {
    try {
      peerIdFromString(peerId);
    } catch {
      return `bad peer id ${JSON.stringify(peerId)} in ${JSON.stringify(s)}`;
    }
  }
  return peerId === undefined ? { proto, host, port } : { proto, host, port, peerId };
}

/** Accepts a multiaddr or "tcp://host:port" and returns the multiaddr form, or an error message. */
export function toMultiaddr(s: string): string | { error: string } {
  if (s.startsWith('tcp://')) {
    const hp = parseTcpUrl(s);
    if (typeof hp === 'string') return { error: hp };
    const family = isIP(hp.host);
    const proto = family === 4 ? 'ip4' : family === 6 ? 'ip6' : 'dns';
    return `/${proto}/${hp.host}/tcp/${hp.port}`;
  }
  const parsed = parseMultiaddr(s);
  return typeof parsed === 'string' ? { error: parsed } : s;
}

/** A listen address must be an IP (libp2p cannot listen on a DNS name) and carry no peer id. */
export function checkListenMultiaddr(s: string): string | undefined {
  const parsed = parseMultiaddr(s);
  if (typeof parsed === 'string') return parsed;
  if (parsed.proto !== 'ip4' && parsed.proto !== 'ip6') return `a listen address needs an IP, got ${JSON.stringify(s)}`;
  if (parsed.peerId !== undefined) return `a listen address carries no /p2p/ peer id, got ${JSON.stringify(s)}`;
  return undefined;
}

/** A node id as libp2p spells it (what `tally show-node-id` prints). */
export function checkPeerId(s: string): string | undefined {
  if (/^[0-9a-fA-F]{40}$/.test(s)) return `${JSON.stringify(s)} is a CometBFT node id; Tally's are libp2p peer ids like 12D3KooW… (see \`tally show-node-id\`)`;
  try {
    peerIdFromString(s);
    return undefined;
  } catch {
    return `${JSON.stringify(s)} is not a peer id (one looks like 12D3KooW…; see \`tally show-node-id\`)`;
  }
}

/** A peer address: a multiaddr ending in /p2p/<peer id>. */
export function checkPeerMultiaddr(s: string): string | undefined {
  if (/^[0-9a-fA-F]{40}@/.test(s))
    return `${JSON.stringify(s)} is CometBFT's id@host:port form; Tally peers are libp2p multiaddrs like /ip4/1.2.3.4/tcp/26656/p2p/12D3KooW… (see \`tally show-node-id\`)`;
  const parsed = parseMultiaddr(s);
  if (typeof parsed === 'string') return `${parsed} (a peer is /ip4/<ip>/tcp/<port>/p2p/<peer id>)`;
  if (parsed.peerId === undefined) return `peer address ${JSON.stringify(s)} lacks /p2p/<peer id>`;
  return undefined;
}
