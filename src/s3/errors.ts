import { TablevaultError, inputError, runtimeError } from '../errors.js';

interface AwsLikeError {
  name?: string;
  Code?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/** Maps what S3 (or the SDK) said to an error that tells the user what to fix. */
export function s3Error(
  e: unknown,
  ctx: { bucket: string; endpoint?: string; action: string; flag?: string },
): TablevaultError {
  if (e instanceof TablevaultError) return e;
  const err = (e ?? {}) as AwsLikeError;
  const name = err.name ?? err.Code ?? '';
  const status = err.$metadata?.httpStatusCode;
  const where = ctx.endpoint ? ` at ${ctx.endpoint}` : '';
  if (name === 'NoSuchBucket' || (name === 'NotFound' && ctx.action === 'check bucket')) {
    return inputError(
      'S3_NO_BUCKET',
      `bucket "${ctx.bucket}" does not exist${where}; create it first or fix ${ctx.flag ?? '--dest'}`,
      e,
    );
  }
  if (
    [
      'InvalidAccessKeyId',
      'SignatureDoesNotMatch',
      'InvalidToken',
      'ExpiredToken',
      'AuthorizationHeaderMalformed',
    ].includes(name)
  ) {
    return inputError(
      'S3_CREDENTIALS',
      `S3${where} rejected the credentials (${name}); check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the profile in use`,
      e,
    );
  }
  if (name === 'AccessDenied' || name === 'Forbidden' || status === 403) {
    return inputError(
      'S3_ACCESS_DENIED',
      `S3${where} denied access to bucket "${ctx.bucket}" (${ctx.action}); check the credentials and the bucket policy`,
      e,
    );
  }
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(err.message ?? '')) {
    return inputError(
      'S3_NO_CREDENTIALS',
      'no AWS credentials found; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE',
      e,
    );
  }
  if (/Region is missing/i.test(err.message ?? '')) {
    return inputError('S3_NO_REGION', 'no AWS region set; pass --s3-region or set AWS_REGION', e);
  }
  const code = (e as { code?: string }).code;
  if (code && ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH'].includes(code)) {
    return inputError(
      'S3_UNREACHABLE',
      `cannot reach S3${where} (${code}); check ${ctx.flag ? `the endpoint for ${ctx.flag}` : '--s3-endpoint'} / AWS_ENDPOINT_URL`,
      e,
    );
  }
  return runtimeError(
    'S3_FAILED',
    `S3 ${ctx.action} failed${where}: ${name ? `${name}: ` : ''}${err.message ?? String(e)}`,
    e,
  );
}
