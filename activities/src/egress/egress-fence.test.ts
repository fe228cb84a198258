import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addressRefusal,
  effectiveAddress,
  fencedFetch,
  fencedPgStream,
  parseEgressAllow,
  resolveEgress,
  withReservedEndpoints,
} from './egress-fence.js';

const none = parseEgressAllow('');

describe('IPv6 forms that embed an IPv4 address', () => {
  it.each([
    ['::7f00:1', 'IPv4-compatible'],
    ['::127.0.0.1', 'IPv4-compatible, dotted'],
    ['::ffff:127.0.0.1', 'IPv4-mapped'],
    ['::ffff:7f00:1', 'IPv4-mapped, hex'],
    ['::ffff:0:7f00:1', 'SIIT'],
    ['64:ff9b::7f00:1', 'NAT64'],
    ['2002:7f00:1::', '6to4'],
  ])('classifies %s (%s) as the loopback address it embeds', (text) => {
    expect(effectiveAddress(text).toString()).toBe('127.0.0.1');
    expect(addressRefusal(none, text, text)).toMatch(/^a loopback address; set TRIBUTARY_EGRESS_ALLOW/);
  });

  it('classifies embedded private and link-local addresses by what they embed', () => {
    expect(addressRefusal(none, 'x', '64:ff9b::a00:1')).toMatch(/^a private address/);
    expect(addressRefusal(none, 'x', '2002:a9fe:a9fe::')).toMatch(/^a link-local address/);
    expect(addressRefusal(none, 'x', '::ffff:169.254.169.254')).toMatch(/never allowed/);
  });

  it('lets an embedded public address through, and an allowed range covers its embedded forms', () => {
    expect(addressRefusal(none, 'x', '64:ff9b::808:808')).toBeNull();
    const allowLoopback = parseEgressAllow('127.0.0.0/8');
    expect(addressRefusal(allowLoopback, 'x', '::7f00:1')).toBeNull();
    expect(addressRefusal(allowLoopback, 'x', '::1')).toMatch(/loopback/);
  });
});

describe('TRIBUTARY_EGRESS_ALLOW', () => {
  it('takes hosts, addresses, ranges and host:port', () => {
    const policy = parseEgressAllow('db.internal:5432, [::1]:6543, 10.0.0.0/8, .example.com, 192.168.1.2');
    expect(policy.endpoints).toEqual([
      { host: 'db.internal', port: 5432 },
      { host: '::1', port: 6543 },
    ]);
    expect(policy.hosts).toEqual(['db.internal', '.example.com']);
    expect(policy.ranges.map(([a, bits]) => `${a.toString()}/${bits}`)).toEqual([
      '::1/128',
      '10.0.0.0/8',
      '192.168.1.2/32',
    ]);
  });

  it('names the variable when an entry is neither', () => {
    expect(() => parseEgressAllow('not a host!')).toThrow(/TRIBUTARY_EGRESS_ALLOW: "not a host!"/);
  });
});

describe('the platform’s own servers', () => {
  const reserved = [{ what: 'the platform database', host: '127.0.0.1', port: 5999 }];

  it('are refused even where loopback is allowed, naming the host:port to allow', async () => {
    const policy = withReservedEndpoints(parseEgressAllow('127.0.0.0/8,localhost'), reserved);
    await expect(
      resolveEgress(policy, { host: 'localhost', port: 5999, what: 'connection "db"' }),
    ).rejects.toThrow(
      /connection "db" refused: localhost resolves to (127\.0\.0\.1|::1): port 5999 there is the platform database, which pipeline connectors may not reach; name it in TRIBUTARY_EGRESS_ALLOW as localhost:5999 to allow it/,
    );
    // Through an IPv4-embedding spelling too.
    await expect(resolveEgress(policy, { host: '::ffff:127.0.0.1', port: 5999, what: 'c' })).rejects.toThrow(
      /platform database/,
    );
    // Another port of the same host is just loopback, which this policy allows.
    await expect(resolveEgress(policy, { host: '127.0.0.1', port: 6000, what: 'c' })).resolves.toEqual({
      address: '127.0.0.1',
      family: 4,
    });
  });

  it('are reachable when named explicitly as host:port', async () => {
    const policy = withReservedEndpoints(parseEgressAllow('127.0.0.1:5999'), reserved);
    await expect(resolveEgress(policy, { host: '127.0.0.1', port: 5999, what: 'c' })).resolves.toMatchObject({
      address: '127.0.0.1',
    });
  });
});

describe('sockets behind the fence', () => {
  let server: net.Server;
  let port: number;
  let accepted = 0;
  beforeAll(async () => {
    server = net.createServer((socket) => {
      accepted += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(() => server.close());

  it('a Postgres connection to loopback is refused before any packet is sent', async () => {
    const client = new pg.Client({
      connectionString: `postgres://u:p@127.0.0.1:${port}/db`,
      stream: fencedPgStream(none, 'connection "src" to postgres://127.0.0.1'),
    } as pg.ClientConfig);
    await expect(client.connect()).rejects.toThrow(
      'connection "src" to postgres://127.0.0.1 refused: 127.0.0.1 is a loopback address; set TRIBUTARY_EGRESS_ALLOW to the host or its range to allow it',
    );
    expect(accepted).toBe(0);
  });

  it('a Postgres connection over a Unix socket is refused', async () => {
    const client = new pg.Client({
      host: '/var/run/postgresql',
      stream: fencedPgStream(none, 'connection "src"'),
    } as pg.ClientConfig);
    await expect(client.connect()).rejects.toThrow(/Unix socket/);
  });

  it('HTTP to the platform’s server is refused even with loopback allowed; to another port it goes', async () => {
    const policy = withReservedEndpoints(parseEgressAllow('localhost'), [
      { what: 'the Temporal frontend', host: '127.0.0.1', port },
    ]);
    const fetch = fencedFetch(policy);
    await expect(fetch(`http://localhost:${port}/x`)).rejects.toThrow(
      new RegExp(`outbound request to http://localhost:${port}/x refused: .*the Temporal frontend`),
    );
    expect(accepted).toBe(0);
  });
});
