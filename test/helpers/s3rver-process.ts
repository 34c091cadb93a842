import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface S3rverProcess {
  endpoint: string;
  stop: () => Promise<void>;
}

/**
 * s3rver in a process of its own, on a free loopback port, storing into `dir`, with SigV4
 * signatures checked. Its own process so that it can run with OpenSSL's legacy provider: s3rver
 * encrypts its ListObjectsV2 continuation tokens with DES, which OpenSSL 3 refuses otherwise (every
 * listing longer than 1,000 keys would answer 500).
 */
export async function startS3rverProcess(dir: string): Promise<S3rverProcess> {
  const script = `import S3rver from 's3rver';
    const s = new S3rver({ address: '127.0.0.1', port: 0, directory: ${JSON.stringify(dir)}, silent: true, allowMismatchedSignatures: false });
    const { port } = await s.run();
    process.stdout.write(port + '\\n');
    process.stdin.on('end', () => s.close().then(() => process.exit(0))).resume();`;
  const child: ChildProcess = spawn(
    process.execPath,
    ['--openssl-legacy-provider', '--input-type=module', '-e', script],
    { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim()));
    child.once('exit', (code) => reject(new Error(`s3rver exited with code ${code} before listening`)));
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    // closing its stdin lets it close the server; kill it if that takes too long
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.stdin!.end();
      }),
  };
}
