import type * as Http from 'node:http';
import type * as Https from 'node:https';
import { createRequire } from 'node:module';
import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { DEFAULTS } from '../defaults.js';
import { inputError } from '../errors.js';
import type { BuildMiddleware, MetadataBearer } from '@smithy/types';

// required, not imported: an ESM import of node:http builds its namespace, which reads the lazy
// WebSocket getters and so loads undici, ~30 ms of every start on Node 24 (`tablevault sync`'s profile)
const requireBuiltin = createRequire(import.meta.url);
const http = requireBuiltin('node:http') as typeof Http;
const https = requireBuiltin('node:https') as typeof Https;

export interface S3Options {
  /** Custom endpoint (MinIO, Ceph, s3rver…); also read from AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL. */
  endpoint?: string;
  /** Region; also AWS_REGION / AWS_DEFAULT_REGION; defaults to us-east-1 with a custom endpoint. */
  region?: string;
  /** Sockets kept alive in the pool: at least objects in flight × parts in flight. */
  maxSockets?: number;
  /** Attempts per request, with the SDK's adaptive retry mode. */
  maxAttempts?: number;
  /** A profile of the shared AWS config/credentials files (default: AWS_PROFILE, then the default chain). */
  profile?: string;
}

export interface ResolvedS3 {
  client: S3Client;
  endpoint: string | undefined;
  region: string | undefined;
}

/** TABLEVAULT_S3_IDLE_TIMEOUT_MS, else DEFAULTS.s3.idleTimeoutMs. */
export function s3IdleTimeoutMs(): number {
  const v = process.env.TABLEVAULT_S3_IDLE_TIMEOUT_MS;
  if (v === undefined || v === '') return DEFAULTS.s3.idleTimeoutMs;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw inputError(
      'OPTION',
      `TABLEVAULT_S3_IDLE_TIMEOUT_MS must be a whole number of milliseconds above 0, not "${v}"; unset it for ${DEFAULTS.s3.idleTimeoutMs}`,
    );
  return n;
}

export function resolveEndpoint(opt?: string): string | undefined {
  return opt || process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL || undefined;
}

/**
 * One client per destination, over a keep-alive agent. With a custom endpoint: path-style
 * addressing, and checksums only where the API requires them (S3-compatible stores reject the
 * SDK's newer default of checksumming every request, e.g. Ceph answers 411 to aws-chunked).
 */
export function createS3Client(opts: S3Options = {}): ResolvedS3 {
  const endpoint = resolveEndpoint(opts.endpoint);
  const region =
    opts.region || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || (endpoint ? 'us-east-1' : undefined);
  const maxSockets = opts.maxSockets ?? 64;
  const agentOpts = { keepAlive: true, maxSockets, keepAliveMsecs: 1000 };
  const client = new S3Client({
    ...(region ? { region } : {}),
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
    ...(opts.profile ? { profile: opts.profile } : {}),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    retryMode: 'adaptive',
    maxAttempts: opts.maxAttempts ?? DEFAULTS.s3.maxAttempts,
    requestHandler: new NodeHttpHandler({
      httpAgent: new http.Agent(agentOpts),
      httpsAgent: new https.Agent(agentOpts),
      connectionTimeout: 10_000,
      // a request whose socket stays silent this long (a server that never answers, a half-open
      // connection) fails with a TimeoutError, which the retry strategy sends again. The SDK's
      // requestTimeout would only print a warning here (unless throwOnRequestTimeout) and also
      // counts the time a large part legitimately takes, so an idle limit is the one that fits.
      socketTimeout: s3IdleTimeoutMs(),
    }),
  });
  client.middlewareStack.add(unsignedPayloadWithMd5, { step: 'build', name: 'tablevaultUnsignedPayloadWithMd5' });
  return { client, endpoint, region };
}

/**
 * A body that carries Content-MD5 (every PutObject and UploadPart tablevault sends) is checked by
 * the server against it, and the header is signed: hashing the body a third time with SHA-256
 * for the signature (besides the MD5 and the object's own SHA-256) only cost CPU, ~1 s per GiB
 * on the thread that also feeds the upload. Such requests are signed as UNSIGNED-PAYLOAD, as
 * S3, Ceph and MinIO accept.
 */
const unsignedPayloadWithMd5: BuildMiddleware<object, MetadataBearer> = (next) => async (args) => {
  const req = args.request as { headers?: Record<string, string> };
  if (
    req.headers &&
    ('content-md5' in req.headers || 'Content-MD5' in req.headers) &&
    !('x-amz-content-sha256' in req.headers)
  ) {
    req.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
  }
  return next(args);
};
