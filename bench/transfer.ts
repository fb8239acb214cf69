/**
 * Streams a 256 MiB image over FTP, SFTP and HTTP through ciu's clients and through a native client
 * (curl, OpenSSH sftp) against the same real server in the same run, and prints MiB/s, the ratio
 * ours/native, and our peak RSS growth (it must stay flat: streaming, never a whole-file buffer).
 *
 *   npm run bench:transfer            # 256 MiB
 *   CIU_BENCH_MIB=64 npm run bench:transfer
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { download, type TransferEndpoint } from '../src/transfer';
import {
  startFtpServer,
  startHttpServer,
  startSshServer,
  writeSparseImage,
  type LocalImageServer,
} from '../test/fixtures/servers';

const run = promisify(execFile);
const MiB = 1024 * 1024;
const sizeMiB = Number(process.env.CIU_BENCH_MIB ?? 256);
const name = 'ArubaOS_72xx_6.4.0.0_99999';

interface Result {
  protocol: string;
  oursMiBs: number;
  nativeMiBs: number;
  native: string;
  peakRssGrowthMiB: number;
}

/** Runs `work`, sampling RSS every 20 ms; returns seconds taken and the RSS peak above the start. */
async function measure(work: () => Promise<unknown>): Promise<{ seconds: number; rssGrowthMiB: number }> {
  global.gc?.();
  const base = process.memoryUsage().rss;
  let peak = base;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const started = process.hrtime.bigint();
  try {
    await work();
  } finally {
    clearInterval(sampler);
  }
  peak = Math.max(peak, process.memoryUsage().rss);
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, rssGrowthMiB: (peak - base) / MiB };
}

async function expectSize(file: string, bytes: number): Promise<void> {
  const actual = (await stat(file)).size;
  if (actual !== bytes) throw new Error(`${file} has ${actual} bytes, expected ${bytes}`);
}

async function bench(
  protocol: string,
  endpoint: TransferEndpoint,
  native: { label: string; command: string; args: (dest: string) => string[] },
  dir: string,
  bytes: number,
): Promise<Result> {
  const ourFile = join(dir, `${protocol}-ours`);
  const nativeFile = join(dir, `${protocol}-native`);
  // Warm the server's page cache and connection paths once, so neither side pays for the first read.
  await download(endpoint, name, ourFile);
  await rm(ourFile);
  const ours = await measure(() => download(endpoint, name, ourFile));
  await expectSize(ourFile, bytes);
  await rm(ourFile);
  const theirs = await measure(() => run(native.command, native.args(nativeFile)));
  await expectSize(nativeFile, bytes);
  await rm(nativeFile);
  return {
    protocol,
    oursMiBs: bytes / MiB / ours.seconds,
    nativeMiBs: bytes / MiB / theirs.seconds,
    native: native.label,
    peakRssGrowthMiB: ours.rssGrowthMiB,
  };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'ciu-bench-'));
  const servers: LocalImageServer[] = [];
  try {
    const image = join(dir, name);
    await writeSparseImage(image, {
      imageType: '72xx',
      version: '6.4.0.0',
      build: 99999,
      payloadLength: sizeMiB * MiB,
    });
    const bytes = (await stat(image)).size;
    const keyFile = join(dir, 'client_key');
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyFile]);
    const publicKey = (await readFile(`${keyFile}.pub`, 'utf8')).trim();

    const ftp = await startFtpServer({ files: { [name]: image } });
    servers.push(ftp);
    const ssh = await startSshServer({ files: { [name]: image }, authorizedKeys: [publicKey] });
    servers.push(ssh);
    const http = await startHttpServer({ files: { [name]: image } });
    servers.push(http);

    // curl reads the FTP login from a netrc file, so the password is not on a command line.
    const netrc = join(dir, 'netrc');
    await writeFile(netrc, `machine 127.0.0.1 login ${ftp.username} password ${ftp.password}\n`, {
      mode: 0o600,
    });

    const results = [
      await bench(
        'ftp',
        ftp.endpoint(),
        {
          label: 'curl',
          command: 'curl',
          args: (dest) => ['-sS', '--netrc-file', netrc, '-o', dest, `ftp://127.0.0.1:${ftp.port}/${name}`],
        },
        dir,
        bytes,
      ),
      await bench(
        'sftp',
        ssh.endpoint('sftp'),
        {
          label: 'OpenSSH sftp',
          command: 'sftp',
          args: (dest) => [
            '-q',
            '-i',
            keyFile,
            '-P',
            String(ssh.port),
            '-o',
            `UserKnownHostsFile=${ssh.knownHostsFile}`,
            '-o',
            'StrictHostKeyChecking=yes',
            '-o',
            'BatchMode=yes',
            `${ssh.username}@127.0.0.1:${name}`,
            dest,
          ],
        },
        dir,
        bytes,
      ),
      await bench(
        'http',
        http.endpoint(),
        {
          label: 'curl',
          command: 'curl',
          args: (dest) => ['-sS', '-o', dest, `http://127.0.0.1:${http.port}/${name}`],
        },
        dir,
        bytes,
      ),
    ];

    console.log(`image: ${sizeMiB} MiB (+ header), loopback, same server for both clients`);
    console.log('protocol  ours MiB/s  native MiB/s  native         ours/native  our peak RSS growth');
    for (const r of results) {
      const columns = [
        r.protocol.padEnd(8),
        r.oursMiBs.toFixed(0).padStart(10),
        r.nativeMiBs.toFixed(0).padStart(12),
        r.native.padEnd(13),
        (r.oursMiBs / r.nativeMiBs).toFixed(2).padStart(11),
        `${r.peakRssGrowthMiB.toFixed(1).padStart(15)} MiB`,
      ];
      console.log(columns.join('  '));
    }
  } finally {
    for (const server of servers) await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
