import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CountingProxy {
  endpoint: string;
  count: () => number;
  reset: () => void;
  stop: () => Promise<void>;
}

/**
 * A pass-through HTTP proxy in front of an S3 endpoint that counts requests, so every sync tool
 * is measured in requests per object the same way. Headers go through unchanged (Host included:
 * SigV4 signs it, and s3rver and radosgw accept a Host naming the proxy); bodies are streamed.
 */
export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const up = new URL(target);
  let n = 0;
  const server = createServer((req, res) => {
    n++;
    const fwd = httpRequest(
      { host: up.hostname, port: up.port, method: req.method, path: req.url, headers: req.headers },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    fwd.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(fwd);
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    count: () => n,
    reset: () => {
      n = 0;
    },
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
