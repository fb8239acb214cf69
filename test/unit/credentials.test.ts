import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentialStore, UnknownCredentialsError } from '../../src/credentials/store';

test('resolves a reference from the file, with the environment taking precedence', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ciu-cred-'));
  const file = join(dir, 'credentials.yaml');
  writeFileSync(file, 'image-ftp:\n  username: images\n  password: from-file\n');
  const store = credentialStore({ file, env: { CIU_CRED_IMAGE_FTP_PASSWORD: 'from-env' } });
  expect(store.resolve('image-ftp')).toEqual({ username: 'images', password: 'from-env' });
});

test('an unknown reference names the reference and no secret', () => {
  const store = credentialStore({ env: { CIU_CRED_OTHER_USERNAME: 'u', CIU_CRED_OTHER_PASSWORD: 's3cret' } });
  expect(() => store.resolve('missing')).toThrow(UnknownCredentialsError);
  expect(() => store.resolve('missing')).toThrow('credentials reference "missing"');
});
