import { runtimeError } from '../errors.js';

/** Reads a response body of known length into one buffer, without the copy that concatenating chunks makes. */
export async function readBody(body: unknown, expected: number, what: string): Promise<Buffer> {
  const out = Buffer.allocUnsafe(expected);
  let at = 0;
  for await (const chunk of body as AsyncIterable<Uint8Array>) {
    if (at + chunk.length > expected)
      throw runtimeError('SYNC_SHORT_READ', `${what}: the server sent more than the ${expected} bytes expected`);
    out.set(chunk, at);
    at += chunk.length;
  }
  if (at !== expected) throw runtimeError('SYNC_SHORT_READ', `${what}: the server sent ${at} of ${expected} bytes`);
  return out;
}
