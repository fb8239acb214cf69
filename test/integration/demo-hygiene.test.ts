/** The demo's throwaway vsftpd account sees its image folder and nothing else of the host. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startFtpServer, type LocalImageServer } from '../fixtures/servers';

const run = promisify(execFile);
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

test('the FTP account reads its images but not /etc/passwd (chrooted into the image folder)', async () => {
  expect(await curl('ArubaOS_72xx_6.5.1.0_1')).toEqual({ code: 0, stdout: 'image bytes' });
  const escape = await curl('%2Fetc/passwd');
  expect(escape.stdout).not.toContain('root:');
  expect(escape.code).not.toBe(0);
});
