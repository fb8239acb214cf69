import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// scripts/setup's wait for a busy package manager, against a real fcntl lock (the kind apt and dpkg
// take) held by another process. A lock file of the test's own stands in for /var/lib/dpkg/lock-frontend,
// so a parallel apt run on this machine is never blocked by the test.
const script = join(__dirname, '../../scripts/wait-for-package-manager');

let dir: string;
let lock: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ciu-apt-lock-'));
  lock = join(dir, 'lock-frontend');
  writeFileSync(lock, '');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Another "install": holds an fcntl write lock on `path` for `seconds`, resolves once it holds it. */
async function holdLock(path: string, seconds: number): Promise<ChildProcess> {
  const holder = spawn('python3', [
    '-c',
    `import fcntl, sys, time\nf = open(sys.argv[1], "w")\nfcntl.lockf(f, fcntl.LOCK_EX)\nprint("held", flush=True)\ntime.sleep(${seconds})`,
    path,
  ]);
  await new Promise<void>((resolve, reject) => {
    holder.stdout.once('data', () => resolve());
    holder.once('exit', (code) => reject(new Error(`lock holder exited with ${code}`)));
  });
  return holder;
}

function waitForPackageManager(limitSeconds: number) {
  const started = Date.now();
  return new Promise<{ code: number; stdout: string; stderr: string; seconds: number }>((resolve) => {
    execFile(
      script,
      [],
      {
        env: {
          ...process.env,
          CIU_PACKAGE_LOCKS: `${lock} ${join(dir, 'absent')}`,
          CIU_APT_LOCK_WAIT: String(limitSeconds),
        },
      },
      (err, stdout, stderr) =>
        resolve({
          code: err ? ((err as { code?: number }).code ?? 1) : 0,
          stdout,
          stderr,
          seconds: (Date.now() - started) / 1000,
        }),
    );
  });
}

test('a free package manager: no wait, no message', async () => {
  expect(await waitForPackageManager(30)).toMatchObject({ code: 0, stdout: '', stderr: '' });
});

test('a lock held by another install: setup says so, waits, and goes on once it is released', async () => {
  const holder = await holdLock(lock, 3);
  const result = await waitForPackageManager(30);
  expect(result.code).toBe(0);
  expect(result.stdout).toContain(
    `setup: another package manager run holds ${lock} (pid ${holder.pid}); waiting up to 30s for it to finish`,
  );
  expect(result.stdout).toMatch(/setup: package manager free after \d+s/);
  expect(result.seconds).toBeGreaterThanOrEqual(1.5);
  expect(result.seconds).toBeLessThan(15);
});

test('a lock held longer than the bound: a clear message and exit 1, within the bound', async () => {
  const holder = await holdLock(lock, 20);
  try {
    const result = await waitForPackageManager(2);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `setup: the package manager lock ${lock} (pid ${holder.pid}) is still held after 2s; wait for that install to finish (or raise CIU_APT_LOCK_WAIT), then run scripts/setup again\n`,
    );
    expect(result.seconds).toBeLessThan(10);
  } finally {
    holder.kill();
  }
});
