// The one egress check for every outbound socket a pipeline step opens: HTTP (fencedFetch), Postgres
// (fencedPgStream, used by source.postgres and sink.postgres with a connection) and anything later
// (the Python steps' proxy). Its stable entry point, for any code that is about to open a socket:
//
//   resolveEgress(policy, { host, port, what }): Promise<{ address, family }>
//     Resolves `host` (a name or an address literal, IPv6 with or without brackets), checks EVERY
//     address it resolves to, and returns the one to connect to. Connect to that address, never
//     to `host` again (a second lookup could answer differently: DNS rebinding). Throws
//     EgressRefused whose message names `what`, the resolved address and the variable to set.
//
// Refused always: link-local addresses (cloud metadata services live there) and metadata host
// names. Refused unless TRIBUTARY_EGRESS_ALLOW names the host or its range: loopback, private and
// other non-public ranges. Refused unless TRIBUTARY_EGRESS_ALLOW names the endpoint itself as
// host:port: the platform's own servers (platform database, warehouse, Temporal frontend), whatever
// credentials a connector holds. IPv6 forms that embed an IPv4 address (IPv4-mapped,
// IPv4-compatible, NAT64 64:ff9b::/96, 6to4 2002::/16, SIIT ::ffff:0:0/96) are judged by the address
// they embed; the ranges come from ipaddr.js, not from hand-written parsing.
import { lookup as dnsLookup } from 'node:dns/promises';
import net from 'node:net';
import os from 'node:os';
import ipaddr from 'ipaddr.js';
import { Agent, buildConnector, fetch as undiciFetch } from 'undici';
import { StepError } from '../errors.js';

export const EGRESS_ALLOW_VARIABLE = 'TRIBUTARY_EGRESS_ALLOW';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** Host names of cloud metadata services: refused whatever they resolve to. */
const METADATA_HOSTS = new Set([
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'metadata.azure.internal',
  'instance-data',
  'instance-data.ec2.internal',
]);

/** A server of the platform itself, closed to pipeline connectors unless named as host:port. */
export interface ReservedEndpoint {
  /** What it is, for the message: "the platform database". */
  what: string;
  host: string;
  port: number;
}

export interface EgressPolicy {
  /** Host names allowed to resolve to non-public addresses (lowercase; ".example.com" for subdomains). */
  hosts: string[];
  /** Ranges allowed although not public. */
  ranges: [Address, number][];
  /** Endpoints named as host:port: reachable even when they are one of the platform's servers. */
  endpoints?: { host: string; port: number }[];
  /** The platform's own servers (filled in by the worker, not by the variable). */
  reserved?: ReservedEndpoint[];
}

/** Parses TRIBUTARY_EGRESS_ALLOW: a comma list of host names, addresses, CIDR ranges and host:port. */
export function parseEgressAllow(value: string | undefined): EgressPolicy {
  const policy: EgressPolicy = { hosts: [], ranges: [], endpoints: [] };
  for (const raw of (value ?? '').split(',')) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    const endpoint = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+):(\d{1,5})$/.exec(entry);
    if (endpoint && Number(endpoint[2]) <= 65535) {
      // host:port names one endpoint explicitly: it is allowed as a host too.
      const host = endpoint[1]!.replace(/^\[|\]$/g, '');
      policy.endpoints!.push({ host, port: Number(endpoint[2]) });
      addHostOrAddress(policy, host, raw);
    } else if (entry.includes('/')) {
      try {
        policy.ranges.push(ipaddr.parseCIDR(entry));
      } catch {
        throw new Error(`${EGRESS_ALLOW_VARIABLE}: "${raw.trim()}" is not a CIDR range (e.g. 10.0.0.0/8)`);
      }
    } else {
      addHostOrAddress(policy, entry.replace(/^\[|\]$/g, ''), raw);
    }
  }
  return policy;
}

function addHostOrAddress(policy: EgressPolicy, entry: string, raw: string): void {
  if (ipaddr.isValid(entry)) {
    const address = ipaddr.parse(entry);
    policy.ranges.push([address, address.kind() === 'ipv4' ? 32 : 128]);
  } else if (/^\.?[a-z0-9-]+(\.[a-z0-9-]+)*\.?$/.test(entry)) {
    policy.hosts.push(entry.replace(/\.$/, ''));
  } else {
    throw new Error(
      `${EGRESS_ALLOW_VARIABLE}: "${raw.trim()}" is neither a host name, an address range nor host:port`,
    );
  }
}

/** The policy with the platform's own servers added (done once, by the worker). */
export function withReservedEndpoints(policy: EgressPolicy, reserved: ReservedEndpoint[]): EgressPolicy {
  return { ...policy, reserved: [...(policy.reserved ?? []), ...reserved] };
}

export class EgressRefused extends StepError {
  constructor(message: string) {
    super(message, 'config');
    this.name = 'EgressRefused';
  }
}

function hostAllowed(policy: EgressPolicy, host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  return policy.hosts.some((allowed) =>
    allowed.startsWith('.') ? name.endsWith(allowed) : name === allowed,
  );
}

/**
 * The IPv4 address an IPv6 address carries, for the forms that route to it: IPv4-mapped and SIIT
 * (::ffff:a.b.c.d, ::ffff:0:a.b.c.d), IPv4-compatible (::a.b.c.d, deprecated but still routed by
 * some stacks), NAT64 (64:ff9b::a.b.c.d) and 6to4 (2002:aabb:ccdd::). Null for other addresses.
 */
export function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4 | null {
  const range = address.range();
  const parts = address.parts;
  const fromWords = (high: number, low: number) =>
    new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
  if (range === 'ipv4Mapped' || range === 'rfc6145' || range === 'rfc6052') {
    return fromWords(parts[6]!, parts[7]!);
  }
  if (range === '6to4') return fromWords(parts[1]!, parts[2]!);
  // ::/96 other than :: and ::1 (which ipaddr.js names unspecified and loopback).
  if (parts.slice(0, 6).every((p) => p === 0) && range !== 'unspecified' && range !== 'loopback') {
    return fromWords(parts[6]!, parts[7]!);
  }
  return null;
}

/** The address as it is judged: an IPv6 form carrying an IPv4 address is that IPv4 address. */
export function effectiveAddress(text: string): Address {
  const address = ipaddr.parse(text.replace(/^\[|\]$/g, ''));
  if (address.kind() === 'ipv6') return embeddedIPv4(address as ipaddr.IPv6) ?? address;
  return address;
}

function inRanges(policy: EgressPolicy, address: Address): boolean {
  return policy.ranges.some(([net, bits]) => {
    const judged = net.kind() === 'ipv6' ? (embeddedIPv4(net as ipaddr.IPv6) ? null : net) : net;
    if (judged && judged.kind() === address.kind()) return address.match(judged, bits);
    // An allowed range written in an IPv4-embedding form (::ffff:10.0.0.0/104) allows the IPv4 range.
    const inner = net.kind() === 'ipv6' ? embeddedIPv4(net as ipaddr.IPv6) : null;
    return inner !== null && address.kind() === 'ipv4' && address.match(inner, Math.max(0, bits - 96));
  });
}

/** Why an address may not be connected to, or null when it may (the platform's servers aside). */
export function addressRefusal(policy: EgressPolicy, host: string, text: string): string | null {
  const address = effectiveAddress(text);
  const range = address.range();
  if (range === 'linkLocal')
    return 'a link-local address (cloud metadata services live there), which is never allowed';
  if (range === 'unicast') return null;
  if (hostAllowed(policy, host)) return null;
  if (inRanges(policy, address)) return null;
  const words: Record<string, string> = {
    loopback: 'a loopback address',
    private: 'a private address',
    uniqueLocal: 'a private (unique local) address',
    unspecified: 'the unspecified address',
    carrierGradeNat: 'a carrier-grade NAT address',
  };
  return `${words[range] ?? `a non-public address (${range})`}; set ${EGRESS_ALLOW_VARIABLE} to the host or its range to allow it`;
}

/** Addresses that reach this machine: loopback and every local interface. */
function localAddresses(): Address[] {
  const found: Address[] = [];
  for (const list of Object.values(os.networkInterfaces())) {
    for (const item of list ?? []) {
      if (ipaddr.isValid(item.address.split('%')[0]!))
        found.push(effectiveAddress(item.address.split('%')[0]!));
    }
  }
  return found;
}

const sameAddress = (x: Address, y: Address) =>
  x.kind() === y.kind() && x.toNormalizedString() === y.toNormalizedString();

const isLocal = (address: Address) =>
  address.range() === 'loopback' ||
  address.range() === 'unspecified' ||
  localAddresses().some((local) => sameAddress(local, address));

/**
 * The platform server (if any) that `address:port` reaches. A server on this machine is reached
 * through every local address (it may listen on all of them), so those count as one.
 */
async function reservedAt(
  policy: EgressPolicy,
  address: Address,
  port: number,
): Promise<ReservedEndpoint | undefined> {
  for (const endpoint of policy.reserved ?? []) {
    if (endpoint.port !== port) continue;
    const addresses = await resolveAll(endpoint.host).catch(() => [] as string[]);
    for (const text of addresses) {
      const reserved = effectiveAddress(text);
      if (sameAddress(reserved, address) || (isLocal(reserved) && isLocal(address))) return endpoint;
    }
  }
  return undefined;
}

function endpointNamed(policy: EgressPolicy, host: string, address: Address, port: number): boolean {
  return (policy.endpoints ?? []).some(
    (e) =>
      e.port === port &&
      (e.host === host.toLowerCase().replace(/\.$/, '') ||
        (ipaddr.isValid(e.host) && sameAddress(effectiveAddress(e.host), address))),
  );
}

async function resolveAll(host: string): Promise<string[]> {
  const bare = host.replace(/^\[|\]$/g, '');
  if (net.isIP(bare)) return [bare];
  const found = await dnsLookup(bare, { all: true, verbatim: true });
  return found.map((f) => f.address);
}

/**
 * THE check (see the top of this module): resolves `host`, checks every address and the platform's
 * servers, and returns the address to connect to. `what` names the connection in the message, e.g.
 * `outbound request to https://x/` or `connection to postgres://db.example.com:5432`.
 */
export async function resolveEgress(
  policy: EgressPolicy,
  target: { host: string; port: number; what: string },
): Promise<{ address: string; family: 4 | 6 }> {
  const host = target.host.replace(/^\[|\]$/g, '').toLowerCase();
  const refuse = (resolved: string, why: string) => {
    const literal = resolved === host;
    return new EgressRefused(
      `${target.what} refused:${literal ? ` ${resolved} is` : ` ${host} resolves to ${resolved}:`} ${why}`,
    );
  };
  if (METADATA_HOSTS.has(host.replace(/\.$/, ''))) {
    throw refuse(host, 'a cloud metadata service, which is never allowed');
  }
  let addresses: string[];
  try {
    addresses = await resolveAll(host);
  } catch (error) {
    throw Object.assign(new Error(`${target.what}: cannot resolve ${host}: ${(error as Error).message}`), {
      code: (error as { code?: unknown }).code,
    });
  }
  if (addresses.length === 0) throw new Error(`${target.what}: ${host} has no address`);
  for (const text of addresses) {
    const why = addressRefusal(policy, host, text);
    if (why) throw refuse(text, why);
    const reserved = await reservedAt(policy, effectiveAddress(text), target.port);
    if (reserved && !endpointNamed(policy, host, effectiveAddress(text), target.port)) {
      throw refuse(
        text,
        `port ${target.port} there is ${reserved.what}, which pipeline connectors may not reach; ` +
          `name it in ${EGRESS_ALLOW_VARIABLE} as ${host.includes(':') ? `[${host}]` : host}:${target.port} to allow it`,
      );
    }
  }
  const address = addresses[0]!;
  return { address, family: net.isIPv6(address) ? 6 : 4 };
}

/** Checks what can be checked before connecting: the scheme, metadata names and address literals. */
export function checkUrl(policy: EgressPolicy, url: URL): void {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new EgressRefused(`outbound request to ${url.protocol}// refused: only http and https are allowed`);
  }
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const shown = `outbound request to ${url.protocol}//${url.host}${url.pathname}`;
  if (METADATA_HOSTS.has(host.replace(/\.$/, ''))) {
    throw new EgressRefused(`${shown} refused: ${host} is a cloud metadata service, which is never allowed`);
  }
  if (ipaddr.isValid(host)) {
    const why = addressRefusal(policy, host, host);
    if (why) throw new EgressRefused(`${shown} refused: ${host} is ${why}`);
  }
}

/** Carries a refusal through undici, which wraps connector errors. */
class Refusal extends Error {
  constructor(readonly refused: EgressRefused) {
    super(refused.message);
  }
}

/** A fetch for pipeline steps: every connection and every redirect hop passes the fence. */
export function fencedFetch(policy: EgressPolicy): typeof fetch {
  const plain = buildConnector({});
  const agent = new Agent({
    connect(options, callback) {
      const port = Number(options.port) || (options.protocol === 'https:' ? 443 : 80);
      const what = `outbound request to ${options.protocol}//${options.host}/`;
      resolveEgress(policy, { host: options.hostname, port, what }).then(
        ({ address }) => {
          const name = options.hostname.replace(/^\[|\]$/g, '');
          plain(
            {
              ...options,
              hostname: address,
              // TLS still names (and verifies) the host, though the socket goes to the checked address.
              servername: options.servername ?? (net.isIP(name) ? undefined : name),
            } as Parameters<typeof plain>[0],
            callback,
          );
        },
        (error: unknown) =>
          callback(error instanceof EgressRefused ? new Refusal(error) : (error as Error), null),
      );
    },
  });
  const fenced = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    let url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    let options = { ...init };
    // Redirects are followed here, so that each hop is checked before it is connected to.
    const follow = (init?.redirect ?? 'follow') === 'follow';
    for (let hop = 0; ; hop++) {
      checkUrl(policy, url);
      let response: Response;
      try {
        response = (await undiciFetch(url, {
          ...(options as object),
          redirect: 'manual',
          dispatcher: agent,
        } as Parameters<typeof undiciFetch>[1])) as unknown as Response;
      } catch (error) {
        const cause = (error as { cause?: unknown }).cause;
        if (cause instanceof Refusal) {
          // The message names the URL of this request (the agent may have been told another's).
          const shown = `${url.protocol}//${url.host}${url.pathname}`;
          throw new EgressRefused(
            cause.refused.message.replace(/^outbound request to \S+/, `outbound request to ${shown}`),
          );
        }
        throw error;
      }
      const location = response.headers.get('location');
      if (!follow || !location || ![301, 302, 303, 307, 308].includes(response.status)) return response;
      await response.body?.cancel().catch(() => {});
      if (hop >= 10) throw new EgressRefused(`${url.origin} redirected more than 10 times`);
      url = new URL(location, url);
      if (
        response.status === 303 ||
        ((response.status === 301 || response.status === 302) && options.method === 'POST')
      ) {
        options = { ...options, method: 'GET', body: undefined };
      }
    }
  };
  return fenced as typeof fetch;
}

/**
 * A socket factory for node-postgres (`stream` option) whose connect goes through the fence: the
 * host is resolved and checked when the connection is opened, and the socket goes to the checked
 * address. Unix sockets reach this machine's servers and are refused. `what` names the connection.
 */
export function fencedPgStream(policy: EgressPolicy, what: string): () => net.Socket {
  return () => {
    const socket = new net.Socket();
    const connect = socket.connect.bind(socket) as (options: net.TcpSocketConnectOpts) => net.Socket;
    (socket as { connect: unknown }).connect = (port: number | string, host?: string) => {
      if (host === undefined || typeof port === 'string') {
        process.nextTick(() =>
          socket.destroy(
            new EgressRefused(
              `${what} refused: a Unix socket reaches this machine's own servers; use host:port`,
            ),
          ),
        );
        return socket;
      }
      resolveEgress(policy, { host, port, what }).then(
        ({ address, family }) => connect({ port, host: address, family }),
        (error: unknown) => socket.destroy(error as Error),
      );
      return socket;
    };
    return socket;
  };
}
