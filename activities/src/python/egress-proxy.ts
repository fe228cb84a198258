// The one door out of a Python sandbox: an HTTP(S) proxy in the worker, listening on a unix socket
// that is the only thing the sandbox can reach (it has its own network namespace with nothing but
// loopback). Every connection it opens passes the platform's egress check on the address it is
// actually opened to, exactly as the steps' own fetch does: CONNECT tunnels for HTTPS, absolute-URI
// requests for plain HTTP, through resolveEgress, the check every other socket of a step passes
// (so the platform's own servers stay closed too). A refusal answers 403 with the reason, which
// the step shows.
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { connect, type Socket } from 'node:net';
import { resolveEgress, type EgressPolicy } from '../egress/egress-fence.js';

export interface EgressProxy {
  /** Every destination refused so far, with why (for the step's error message). */
  refusals: string[];
  close(): Promise<void>;
}

/** The address to connect to for host:port, by the platform's one egress check (or its refusal). */
async function checkedAddress(policy: EgressPolicy, host: string, port: number): Promise<string> {
  const { address } = await resolveEgress(policy, {
    host,
    port,
    what: `outbound connection to ${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`,
  });
  return address;
}

export interface EgressProxyOptions {
  /**
   * Refuse every destination with this message (a node without network whose process tried the
   * network anyway); nothing is resolved or connected.
   */
  refuseAll?: (target: string) => string;
  /** Told of each refusal as it happens (to stop a process that would only retry). */
  onRefusal?: (why: string) => void;
}

export async function startEgressProxy(
  policy: EgressPolicy,
  socketPath: string,
  options: EgressProxyOptions = {},
): Promise<EgressProxy> {
  const refusals: string[] = [];
  const sockets = new Set<Socket>();
  // The check's own message names the destination, the resolved address and why.
  const refuse = (_target: string, error: unknown) => {
    const why = (error as Error).message;
    refusals.push(why);
    options.onRefusal?.(why);
    return why;
  };
  const check = (host: string, port: number) =>
    options.refuseAll
      ? Promise.reject(new Error(options.refuseAll(`${host}:${port}`)))
      : checkedAddress(policy, host, port);

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    // Plain HTTP through a proxy: the request line carries the absolute URL.
    let url: URL;
    try {
      url = new URL(req.url ?? '');
    } catch {
      res.writeHead(400).end('the proxy takes absolute http:// URLs');
      return;
    }
    if (url.protocol !== 'http:') {
      res.writeHead(400).end('the proxy forwards http:// URLs; https goes through CONNECT');
      return;
    }
    const port = Number(url.port || 80);
    check(url.hostname, port).then(
      (address) => {
        const headers = { ...req.headers };
        delete headers['proxy-connection'];
        delete headers['proxy-authorization'];
        const upstream = httpRequest(
          {
            host: address,
            port,
            method: req.method,
            path: url.pathname + url.search,
            headers,
          },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        upstream.on('error', (error) =>
          res.headersSent ? res.destroy() : res.writeHead(502).end(error.message),
        );
        req.pipe(upstream);
      },
      (error) => res.writeHead(403, { 'content-type': 'text/plain' }).end(refuse(url.host, error)),
    );
  });

  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    const target = req.url ?? '';
    const split = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(target);
    if (!split) {
      client.end('HTTP/1.1 400 Bad Request\r\n\r\nCONNECT takes host:port\n');
      return;
    }
    const [, host, portText] = split;
    const port = Number(portText);
    check(host!, port).then(
      (address) => {
        const upstream = connect({ host: address, port }, () => {
          client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
          if (head.length) upstream.write(head);
          upstream.pipe(client);
          client.pipe(upstream);
        });
        sockets.add(upstream);
        upstream.on('close', () => sockets.delete(upstream));
        upstream.on('error', (error) => {
          if (!client.destroyed) client.end(`HTTP/1.1 502 Bad Gateway\r\n\r\n${error.message}\n`);
        });
      },
      (error) => {
        const why = refuse(target, error);
        client.end(
          `HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(why)}\r\n\r\n${why}`,
        );
      },
    );
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  return {
    refusals,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
