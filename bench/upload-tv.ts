/** One object through tablevault's uploader (the library's Uploader), for `npm run bench -- --upload`. */
import { createReadStream } from 'node:fs';
import { createS3Client, Uploader, DEFAULT_UPLOADER_OPTIONS } from '../dist/index.js';

const [file, bucket, key] = process.argv.slice(2);
const { client } = createS3Client({ maxSockets: DEFAULT_UPLOADER_OPTIONS.partConcurrency + 4 });
const res = await new Uploader(client, bucket!, DEFAULT_UPLOADER_OPTIONS).upload({
  key: key!,
  body: createReadStream(file!, { highWaterMark: 1024 * 1024 }),
});
client.destroy();
process.stdout.write(`${JSON.stringify(res)}\n`);
