// The one egress check for outbound HTTP from pipeline steps. Link-local addresses (cloud metadata
// services among them) are refused always; loopback, private and other non-public ranges unless
// TRIBUTARY_EGRESS_ALLOW names the host or its range. The check runs on the address a connection
// is actually opened to (a DNS lookup hook of the HTTP agent), so a name that resolves to a public
// address when checked and to 127.0.0.1 when connecting (DNS rebinding) gets nowhere, and it runs
// again for every redirect hop.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import ipaddr from 'ipaddr.js';
import { Agent, fetch as undiciFetch } from 'undici';
import { StepError } from '../errors.js';

export const EGRESS_ALLOW_VARIABLE = 'TRIBUTARY_EGRESS_ALLOW';

/** Host names of cloud metadata services: refused whatever they resolve to. */
const METADATA_HOSTS = new Set([
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'metadata.azure.internal',
  'instance-data',
  'instance-data.ec2.internal',
]);

export interface EgressPolicy {
  /** Host names allowed to resolve to non-public addresses (lowercase; ".example.com" for subdomains). */
  hosts: string[];
  /** Ranges allowed although not public. */
  ranges: [ipaddr.IPv4 | ipaddr.IPv6, number][];
}

/** Parses TRIBUTARY_EGRESS_ALLOW: a comma list of host names, addresses and CIDR ranges. */
export function parseEgressAllow(value: string | undefined): EgressPolicy {
  const policy: EgressPolicy = { hosts: [], ranges: [] };
  for (const raw of (value ?? '').split(',')) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry.includes('/')) {
      try {
        policy.ranges.push(ipaddr.parseCIDR(entry));
      } catch {
        throw new Error(`${EGRESS_ALLOW_VARIABLE}: "${raw.trim()}" is not a CIDR range (e.g. 10.0.0.0/8)`);
      }
    } else if (ipaddr.isValid(entry.replace(/^\[|\]$/g, ''))) {
      const address = ipaddr.parse(entry.replace(/^\[|\]$/g, ''));
      policy.ranges.push([address, address.kind() === 'ipv4' ? 32 : 128]);
    } else if (/^\.?[a-z0-9-]+(\.[a-z0-9-]+)*\.?$/.test(entry)) {
      policy.hosts.push(entry.replace(/\.$/, ''));
    } else {
      throw new Error(
        `${EGRESS_ALLOW_VARIABLE}: "${raw.trim()}" is neither a host name nor an address range`,
      );
    }
  }
  return policy;
}

/** Raised inside the connection's lookup; the fetch turns it into a refusal naming the URL. */
class RefusedAddress extends Error {
  constructor(
    readonly address: string,
    readonly why: string,
  ) {
    super(`${address}: ${why}`);
  }
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

/** Why an address may not be connected to, or null when it may. */
export function addressRefusal(policy: EgressPolicy, host: string, text: string): string | null {
  let address: ipaddr.IPv4 | ipaddr.IPv6 = ipaddr.parse(text);
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
    address = (address as ipaddr.IPv6).toIPv4Address();
  }
  const range = address.range();
  if (range === 'linkLocal')
    return 'a link-local address (cloud metadata services live there), which is never allowed';
  if (range === 'unicast') return null;
  if (hostAllowed(policy, host)) return null;
  if (policy.ranges.some(([net, bits]) => net.kind() === address.kind() && address.match(net, bits)))
    return null;
  const words: Record<string, string> = {
    loopback: 'a loopback address',
    private: 'a private address',
    uniqueLocal: 'a private (unique local) address',
    unspecified: 'the unspecified address',
    carrierGradeNat: 'a carrier-grade NAT address',
  };
  return `${words[range] ?? `a non-public address (${range})`}; set ${EGRESS_ALLOW_VARIABLE} to the host or its range to allow it`;
}

function refusal(url: URL, resolved: string, why: string): EgressRefused {
  const shown = `${url.protocol}//${url.host}${url.pathname}`;
  const via = resolved === url.hostname.replace(/^\[|\]$/g, '') ? '' : ` resolves to ${resolved}:`;
  return new EgressRefused(`outbound request to ${shown} refused:${via || ` ${resolved} is`} ${why}`);
}

/** Checks what can be checked before connecting: the scheme, metadata names and address literals. */
export function checkUrl(policy: EgressPolicy, url: URL): void {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new EgressRefused(`outbound request to ${url.protocol}// refused: only http and https are allowed`);
  }
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (METADATA_HOSTS.has(host.replace(/\.$/, ''))) {
    throw refusal(url, host, 'a cloud metadata service, which is never allowed');
  }
  if (ipaddr.isValid(host)) {
    const why = addressRefusal(policy, host, host);
    if (why) throw refusal(url, host, why);
  }
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/** A fetch for pipeline steps: every connection and every redirect hop passes the fence. */
export function fencedFetch(policy: EgressPolicy): typeof fetch {
  const agent = new Agent({
    connect: {
      lookup(hostname: string, options: { all?: boolean }, callback: LookupCallback) {
        dnsLookup(hostname, { all: true }, (error, addresses) => {
          if (error) return callback(error, []);
          for (const { address } of addresses) {
            const why = addressRefusal(policy, hostname, address);
            if (why) return callback(new RefusedAddress(address, why) as NodeJS.ErrnoException, []);
          }
          if (options.all) return callback(null, addresses);
          return callback(null, addresses[0]!.address, addresses[0]!.family);
        });
      },
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
        if (cause instanceof RefusedAddress) throw refusal(url, cause.address, cause.why);
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
