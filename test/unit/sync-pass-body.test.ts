import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { ByteBudget } from '../../src/sync/budget.js';
import { PassBody } from '../../src/sync/pass-body.js';

const CHUNK = 1000;

/** What crossed between a source and its consumers: bytes pulled from sources, bytes consumers finished with. */
class Meter {
  pulled = 0;
  consumed = 0;
  maxAhead = 0;

  /** A source of `chunks` chunks of `size` bytes (byte i of chunk c is (c + i) & 255), counted as it is read. */
  async *source(chunks: number, size = CHUNK): AsyncGenerator<Uint8Array> {
    for (let c = 0; c < chunks; c++) {
      const b = Buffer.alloc(size);
      for (let i = 0; i < size; i++) b[i] = (c + i) & 255;
      this.pulled += size;
      this.maxAhead = Math.max(this.maxAhead, this.pulled - this.consumed);
      yield b;
    }
  }

  /** A consumer that takes a while over each chunk (a slow destination socket). */
  sink(into: Buffer[] = []): Writable {
    return new Writable({
      highWaterMark: 1,
      write: (chunk: Buffer, _enc, cb) => {
        into.push(chunk);
        setTimeout(() => {
          this.consumed += chunk.length;
          cb();
        }, 1);
      },
    });
  }
}

/** The bytes Meter.source(chunks) yields. */
function expected(chunks: number): Buffer {
  const all = Buffer.alloc(chunks * CHUNK);
  for (let c = 0; c < chunks; c++) for (let i = 0; i < CHUNK; i++) all[c * CHUNK + i] = (c + i) & 255;
  return all;
}

describe('PassBody', () => {
  it('passes every byte on in order', async () => {
    const m = new Meter();
    const got: Buffer[] = [];
    await pipeline(new PassBody(m.source(20), new ByteBudget(10 * CHUNK), 20 * CHUNK, 'x'), m.sink(got));
    expect(Buffer.concat(got).equals(expected(20))).toBe(true);
  });

  it('computes the MD5 of the bytes passed', async () => {
    const m = new Meter();
    const body = new PassBody(m.source(5), new ByteBudget(10 * CHUNK), 5 * CHUNK, 'x');
    await pipeline(body, m.sink());
    expect(body.digestHex()).toBe(createHash('md5').update(expected(5)).digest('hex'));
  });

  it('never reads more than the shared budget ahead of slow consumers, however many bodies share it', async () => {
    const m = new Meter();
    const budget = new ByteBudget(2 * CHUNK);
    await Promise.all(
      Array.from({ length: 4 }, () => pipeline(new PassBody(m.source(25), budget, 25 * CHUNK, 'x'), m.sink())),
    );
    expect(m.consumed).toBe(4 * 25 * CHUNK);
    // a chunk is pulled from its source only once the budget has room for it; the chunk pulled
    // last may wait for that room, so the bound is the budget plus one chunk per body
    expect(m.maxAhead).toBeLessThanOrEqual(2 * CHUNK + 4 * CHUNK);
  });

  it('a full budget stops the reading of every source until a consumer takes its chunk', async () => {
    const m = new Meter();
    const budget = new ByteBudget(CHUNK);
    const held = await budget.acquire(CHUNK); // the whole budget taken elsewhere
    const flow = pipeline(new PassBody(m.source(5), budget, 5 * CHUNK, 'x'), m.sink());
    await new Promise((r) => setTimeout(r, 20));
    expect(m.consumed).toBe(0);
    held();
    await flow;
    expect(m.consumed).toBe(5 * CHUNK);
  });

  it('fails a source that ends before the expected length', async () => {
    const m = new Meter();
    const flow = pipeline(new PassBody(m.source(3), new ByteBudget(10 * CHUNK), 4 * CHUNK, 'obj'), m.sink());
    await expect(flow).rejects.toThrow('obj: the server sent 3000 of 4000 bytes');
  });

  it('fails a source that sends more than the expected length', async () => {
    const m = new Meter();
    const flow = pipeline(new PassBody(m.source(5), new ByteBudget(10 * CHUNK), 4 * CHUNK, 'obj'), m.sink());
    await expect(flow).rejects.toThrow('obj: the server sent more than the 4000 bytes expected');
  });

  it('gives its bytes back to the budget when destroyed in the middle', async () => {
    const m = new Meter();
    const budget = new ByteBudget(CHUNK);
    const body = new PassBody(m.source(5), budget, 5 * CHUNK, 'x');
    await new Promise<void>((resolve) => body.once('data', () => resolve()));
    body.destroy();
    const release = await budget.acquire(CHUNK); // granted: the destroyed body holds nothing
    release();
    expect(body.destroyed).toBe(true);
  });
});
