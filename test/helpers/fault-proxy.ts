/**
 * A tiny HTTP reverse proxy (node:http only) in front of an S3 endpoint, for fault injection.
 *
 * Requests are forwarded byte for byte: same method, path and query, the same headers in the same
 * order, Host included (SigV4 signs Host, so the client's value is kept; s3rver and radosgw accept a
 * Host naming the proxy), bodies streamed both ways. A request matching a rule (first matching rule
 * with uses left wins) is instead:
 *   - status: answered with that HTTP status and an S3 XML error body, after its body was drained;
 *   - drop:   left without any reply, the connection destroyed;
 *   - delay:  forwarded after `ms` milliseconds;
 *   - corrupt: forwarded with one byte of the request body flipped (at `at`), headers unchanged.
 * Every request is recorded in arrival order with its final status (0 = dropped/no response,
 * 502 = the upstream failed).
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders, type ClientRequest } from 'node:http';
import { Transform } from 'node:stream';
import type { AddressInfo, Socket } from 'node:net';

export type FaultRequest = { method: string; path: string; query: URLSearchParams; headers: IncomingHttpHeaders };

export type FaultAction =
  | { kind: 'status'; status: number; /** S3 XML error Code, e.g. 'InternalError' or 'SlowDown' */ code?: string }
  | { kind: 'drop' }
  | { kind: 'delay'; ms: number }
  | { kind: 'corrupt'; at: number };

export type FaultRule = {
  match: (req: FaultRequest) => boolean;
  action: FaultAction;
  /** how many matching requests to affect; default Infinity */
  times?: number;
};

/** `at`: Date.now() on arrival; `doneAt`: when the answer was fully sent (absent for dropped requests). */
export type RecordedRequest = {
  method: string;
  path: string;
  query: string;
  status: number;
  at: number;
  doneAt?: number;
};

export type FaultProxy = {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  requests: RecordedRequest[];
  /** replaces the rules (and their remaining `times`) */
  setRules(r: FaultRule[]): void;
  close(): Promise<void>;
};

const DEFAULT_CODES: Record<number, string> = {
  400: 'BadRequest',
  403: 'AccessDenied',
  404: 'NoSuchKey',
  409: 'Conflict',
  500: 'InternalError',
  501: 'NotImplemented',
  503: 'SlowDown',
};

function errorBody(code: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>injected</Message></Error>`;
}

export async function startFaultProxy(upstream: string, rules: FaultRule[] = []): Promise<FaultProxy> {
  const up = new URL(upstream);
  if (up.protocol !== 'http:') throw new Error(`fault proxy: only http upstreams are supported, got ${upstream}`);
  const upHost = up.hostname.replace(/^\[|\]$/g, '');
  const upPort = Number(up.port || 80);

  let active: Array<{ rule: FaultRule; left: number }> = [];
  const setRules = (r: FaultRule[]): void => {
    active = r.map((rule) => ({ rule, left: rule.times ?? Infinity }));
  };
  setRules(rules);

  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const upstreamRequests = new Set<ClientRequest>();

  const server = createServer((req, res) => {
    const rawUrl = req.url ?? '/';
    const qi = rawUrl.indexOf('?');
    const path = qi < 0 ? rawUrl : rawUrl.slice(0, qi);
    const rawQuery = qi < 0 ? '' : rawUrl.slice(qi + 1);
    const method = req.method ?? 'GET';
    const rec: RecordedRequest = { method, path, query: rawQuery, status: 0, at: Date.now() };
    requests.push(rec);
    res.on('finish', () => {
      rec.doneAt = Date.now();
    });

    const info: FaultRequest = { method, path, query: new URLSearchParams(rawQuery), headers: req.headers };
    const hit = active.find((a) => a.left > 0 && a.rule.match(info));
    if (hit) hit.left -= 1;
    const action = hit?.rule.action;

    if (action?.kind === 'drop') {
      req.socket.destroy();
      return;
    }
    if (action?.kind === 'status') {
      const body = method === 'HEAD' ? '' : errorBody(action.code ?? DEFAULT_CODES[action.status] ?? 'InjectedError');
      const reply = (): void => {
        if (res.headersSent || res.destroyed) return;
        rec.status = action.status;
        res.writeHead(action.status, {
          'content-type': 'application/xml',
          'content-length': Buffer.byteLength(body),
          'x-amz-request-id': 'fault-proxy',
        });
        res.end(body);
      };
      req.on('end', reply);
      req.on('error', () => {
        /* client went away */
      });
      req.resume(); // drain the body first, so the client is not cut off mid-upload
      if (req.readableEnded) reply();
      return;
    }

    const forward = (): void => {
      if (req.destroyed && !req.readableEnded) return;
      const headers = req.rawHeaders; // exact names, order and duplicates; Host unchanged
      const upReq = httpRequest({ host: upHost, port: upPort, method, path: rawUrl, headers, setHost: false });
      upstreamRequests.add(upReq);
      upReq.on('close', () => upstreamRequests.delete(upReq));
      upReq.on('response', (upRes) => {
        rec.status = upRes.statusCode ?? 0;
        res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, upRes.rawHeaders);
        upRes.pipe(res);
        upRes.on('error', () => res.destroy());
      });
      upReq.on('error', (err) => {
        if (!res.headersSent) {
          rec.status = 502;
          const body = errorBody('InternalError').replace('injected', `fault proxy: upstream failed: ${err.message}`);
          res.writeHead(502, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
          res.end(body);
        } else {
          res.destroy();
        }
      });
      req.on('error', () => upReq.destroy());
      res.on('close', () => {
        if (!res.writableFinished) upReq.destroy();
      });
      if (action?.kind === 'corrupt') req.pipe(flipByte(action.at)).pipe(upReq);
      else req.pipe(upReq);
    };

    if (action?.kind === 'delay') {
      const timer = setTimeout(forward, action.ms);
      res.on('close', () => clearTimeout(timer));
    } else {
      forward();
    }
  });

  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('clientError', (_err, s) => s.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    setRules,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
        for (const r of upstreamRequests) r.destroy();
      }),
  };
}

/** Passes bytes through, with the byte at offset `at` inverted. */
function flipByte(at: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      if (at >= seen && at < seen + chunk.length) {
        chunk = Buffer.from(chunk);
        chunk[at - seen] = chunk[at - seen]! ^ 0xff;
      }
      seen += chunk.length;
      done(null, chunk);
    },
  });
}
