/**
 * The demo's throwaway vsftpd account (it runs as root): confined to its image folder, without a
 * login shell, and gone — with its vsftpd — at the next start even when the run that made it was
 * SIGKILLed and cleaned up nothing.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { eventually } from '../fixtures/eventually';
import { accepts, killHard, running } from '../fixtures/processes';
import { startFtpServer, type LocalImageServer } from '../fixtures/servers';

const run = promisify(execFile);
const root = join(__dirname, '..', '..');
let ftp: LocalImageServer;

beforeAll(async () => {
  ftp = await startFtpServer({ files: { 'ArubaOS_72xx_6.5.1.0_1': Buffer.from('image bytes') } });
});

afterAll(async () => {
  await ftp?.stop();
});

async function curl(path: string): Promise<{ code: number; stdout: string }> {
  const url = `ftp://${ftp.username}:${ftp.password}@${ftp.host}:${ftp.port}/${path}`;
  try {
    const { stdout } = await run('curl', ['-s', '--max-time', '10', url]);
    return { code: 0, stdout };
  } catch (err) {
    const failed = err as { code?: number; stdout?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '' };
  }
}

/** The /etc/passwd fields of `username`, or undefined when there is no such account. */
function account(username: string): string[] | undefined {
  return readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .map((line) => line.split(':'))
    .find((fields) => fields[0] === username);
}

test('the FTP account reads its images but not /etc/passwd (chrooted into the image folder)', async () => {
  expect(await curl('ArubaOS_72xx_6.5.1.0_1')).toEqual({ code: 0, stdout: 'image bytes' });
  const escape = await curl('%2Fetc/passwd');
  expect(escape.stdout).not.toContain('root:');
  expect(escape.code).not.toBe(0);
});

test('the FTP account has no login shell, yet vsftpd logs it in', async () => {
  expect(account(ftp.username!)?.[6]).toBe('/usr/sbin/nologin');
  expect((await curl('ArubaOS_72xx_6.5.1.0_1')).code).toBe(0);
});

test('after a SIGKILL of the process that started vsftpd, the next start removes the old account and its vsftpd', async () => {
  // The demo's image server, started the way `ciu start` starts it, in a process of its own.
  const owner = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '-e',
      "require('./devkit/image-server').startFtpServer().then((s) => console.log(JSON.stringify({ username: s.username, root: s.root, host: s.host, port: s.port })))",
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let output = '';
  owner.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  const started = await eventually(
    async () =>
      output.includes('}')
        ? (JSON.parse(output) as { username: string; root: string; host: string; port: number })
        : undefined,
    { what: 'the FTP server of the child process', timeoutMs: 30_000 },
  );
  const pidFile = join(dirname(started.root), 'state', 'server.pid');
  const vsftpd = Number((await readFile(pidFile, 'utf8')).trim());
  await killHard(owner);

  // What a SIGKILL leaves: the account, its vsftpd still serving, its folders.
  expect(account(started.username)).toBeDefined();
  expect(running(vsftpd)).toBe(true);
  expect(await accepts(started.host, started.port)).toBe(true);
  expect(existsSync(join('/etc/pam.d', started.username))).toBe(true);

  const next = await startFtpServer();
  try {
    expect(account(started.username)).toBeUndefined();
    expect(existsSync(join('/etc/pam.d', started.username))).toBe(false);
    expect(existsSync(dirname(started.root))).toBe(false);
    await eventually(async () => !running(vsftpd), {
      what: `the old vsftpd (pid ${vsftpd}) to end`,
      timeoutMs: 10_000,
    });
    expect(await accepts(started.host, started.port)).toBe(false);
    // This file's own server (its owner, this process, is alive) is left alone.
    expect(account(ftp.username!)).toBeDefined();
    expect((await curl('ArubaOS_72xx_6.5.1.0_1')).code).toBe(0);
  } finally {
    await next.stop();
  }
});
