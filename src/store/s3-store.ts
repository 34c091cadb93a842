import { GetObjectCommand, HeadBucketCommand } from '@aws-sdk/client-s3';
import { inputError } from '../errors.js';
import { createS3Client, type S3Options } from '../s3/client.js';
import { s3Error } from '../s3/errors.js';
import { listObjects } from '../s3/list.js';
import { Uploader, type UploadParams, type UploadResult, type UploaderOptions } from '../s3/uploader.js';
import type { ObjectStore } from './store.js';

export class S3Store implements ObjectStore {
  readonly label: string;
  private readonly s3;
  private readonly uploader: Uploader;

  constructor(
    readonly bucket: string,
    s3: S3Options,
    upload: UploaderOptions,
  ) {
    this.label = `s3://${bucket}`;
    this.s3 = createS3Client(s3);
    this.uploader = new Uploader(this.s3.client, bucket, upload);
  }

  private fail(e: unknown, action: string): never {
    throw s3Error(e, { bucket: this.bucket, endpoint: this.s3.endpoint, action });
  }

  async check(): Promise<void> {
    try {
      await this.s3.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (e) {
      this.fail(e, 'check bucket');
    }
  }

  async put(p: UploadParams): Promise<UploadResult> {
    try {
      return await this.uploader.upload(p);
    } catch (e) {
      this.fail(e, `upload ${p.key}`);
    }
  }

  async delete(keys: string[]): Promise<void> {
    try {
      await this.uploader.deleteKeys(keys);
    } catch (e) {
      this.fail(e, 'delete');
    }
  }

  async get(key: string): Promise<Uint8Array> {
    try {
      const r = await this.s3.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return await r.Body!.transformToByteArray();
    } catch (e) {
      if ((e as { name?: string }).name === 'NoSuchKey')
        throw inputError('NOT_FOUND', `s3://${this.bucket}/${key} does not exist; check the backup location`, e);
      this.fail(e, `read ${key}`);
    }
  }

  async *list(prefix: string): AsyncGenerator<string> {
    for await (const o of this.listSizes(prefix)) yield o.key;
  }

  async *listSizes(prefix: string): AsyncGenerator<{ key: string; size: number }> {
    for await (const o of listObjects(
      { client: this.s3.client, bucket: this.bucket, endpoint: this.s3.endpoint },
      prefix,
    ))
      yield { key: prefix + o.key, size: o.size };
  }

  close(): void {
    this.s3.client.destroy();
  }
}
