import { inputError } from '../errors.js';

/** Same endpoint (as resolved), same bucket, and one prefix inside the other: copying would feed on itself. */
export function checkNotOverlapping(
  src: { bucket: string; prefix: string; endpoint?: string },
  dst: { bucket: string; prefix: string; endpoint?: string },
): void {
  if ((src.endpoint ?? '') !== (dst.endpoint ?? '') || src.bucket !== dst.bucket) return;
  if (src.prefix === dst.prefix)
    throw inputError(
      'SYNC_SAME',
      `source and destination are the same location (s3://${src.bucket}/${src.prefix}); give a different destination bucket or prefix`,
    );
  const within = (outer: string, inner: string) => outer === '' || inner.startsWith(`${outer}/`);
  if (within(src.prefix, dst.prefix) || within(dst.prefix, src.prefix)) {
    throw inputError(
      'SYNC_OVERLAP',
      `source s3://${src.bucket}/${src.prefix} and destination s3://${dst.bucket}/${dst.prefix} overlap (one prefix contains the other); use prefixes side by side or another bucket`,
    );
  }
}
