import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { activityEnvironment, failure } from '../fixtures/activity-env';
import pino from 'pino';
import { createImageActivities } from '../../activities/verify-image';
import type { VerifiedImage, VerifyImageInput } from '../../activities/types';
import { staticCredentialStore } from '../../src/credentials/store';
import { failureTypes } from '../../src/domain/errors';
import type { Protocol } from '../../src/domain/types';
import {
  encodeImageHeader,
  generateImageKeyPair,
  HEADER_SIZE,
  signingKeyFromPem,
  type TrustedImageKeys,
} from '../../src/image';
import { freePort } from '../../devkit/temporal/free-port';
import {
  createTestImage,
  testImageKeys,
  type LocalImageServer,
  everyProtocol,
  startServersForEveryProtocol,
  type ImageServersByProtocol,
} from '../fixtures/servers';

// verifyImage as the worker runs it, against real servers: header only, and one clear failure per problem.
const good = createTestImage({ imageType: '72xx', version: '6.4.0.0', build: 81234, payloadSize: 200_000 });
const other = createTestImage({ imageType: '70xx', version: '6.4.0.0', build: 81234 });
const corrupt = Buffer.from(good.bytes);
corrupt[40] = 0x39; // inside the version field: the header checksum no longer matches
const truncated = good.bytes.subarray(0, 100);
const badMagic = Buffer.concat([Buffer.from('PK\x03\x04not an image'), Buffer.alloc(300)]);
const unsigned = createTestImage({ imageType: '72xx', version: '6.4.0.0', build: 81234, sign: false });
const strangerKey = signingKeyFromPem(generateImageKeyPair().privateKeyPem, 'a stranger key');
const byStranger = createTestImage({
  imageType: '72xx',
  version: '6.4.0.0',
  build: 81234,
  sign: strangerKey,
});
/** The signed good image with its build changed and its checksum recomputed: what a writer of the server could do. */
const tampered = Buffer.from(good.bytes);
tampered.writeUInt32BE(81235, 60);
createHash('sha256').update(tampered.subarray(0, 224)).digest().copy(tampered, 224);
const files = {
  ArubaOS_72xx_unsigned: unsigned.bytes,
  ArubaOS_72xx_stranger: byStranger.bytes,
  ArubaOS_72xx_tampered: tampered,
  [good.name]: good.bytes,
  [other.name]: other.bytes,
  ArubaOS_72xx_corrupt: corrupt,
  ArubaOS_72xx_truncated: truncated,
  ArubaOS_72xx_zip: badMagic,
};

let imageServers: ImageServersByProtocol | undefined;
let ftp: LocalImageServer;
let ftps: LocalImageServer;
let ssh: LocalImageServer;
let http: LocalImageServer;
let logLines: string[];
let work: string;

const logger = () =>
  pino(
    { level: 'debug' },
    new Writable({
      write(chunk: Buffer, _e, done) {
        logLines.push(chunk.toString());
        done();
      },
    }),
  );

beforeAll(async () => {
  imageServers = await startServersForEveryProtocol(files);
  ({ ftp, ftps, ssh, http } = imageServers);
  work = await mkdtemp(join(tmpdir(), 'ciu-verify-test-'));
});

afterAll(async () => {
  await imageServers?.stop();
  await rm(work, { recursive: true, force: true });
});

beforeEach(() => {
  logLines = [];
});

function activity(
  extra: {
    caFile?: string;
    knownHostsFile?: string;
    timeoutMs?: number;
    trustedImageKeys?: TrustedImageKeys;
  } = {},
) {
  const credentials = staticCredentialStore({
    'image-ftp': ftp.credentials!,
    'image-ftps': ftps.credentials!,
    'image-ssh': ssh.credentials!,
    'image-wrong': { ...ftp.credentials!, password: 'Wrong-Password-1' },
    'image-ssh-wrong': { ...ssh.credentials!, password: 'Wrong-Password-1' },
    // Trusts a key the server does not have: the pin agrees with the worker, the server does not.
    'image-ssh-stale-key': {
      ...ssh.credentials!,
      allow: { ...ssh.credentials!.allow, hostKeys: [staleKey] },
    },
    // No keys of its own: the worker's known_hosts decides.
    'image-ssh-known-hosts': {
      ...ssh.credentials!,
      allow: { ...ssh.credentials!.allow, hostKeys: undefined },
    },
    // Any port on the test servers' address, for servers that are down.
    'image-any-port': {
      ...ssh.credentials!,
      allow: {
        purpose: 'image-server',
        hosts: ['127.0.0.1'],
        protocols: ['ftp', 'sftp', 'http'],
        allowPlaintext: true,
        hostKeys: [ssh.hostKey!],
      },
    },
  });
  return createImageActivities({
    credentials,
    logger: logger(),
    caFile: ftps.caFile,
    trustedImageKeys: testImageKeys,
    ...extra,
  });
}

function verify(input: VerifyImageInput, extra?: Parameters<typeof activity>[0]): Promise<VerifiedImage> {
  return activityEnvironment().run(activity(extra).verifyImage, input);
}

function input(
  server: LocalImageServer,
  protocol: Protocol,
  imageFile: string,
  more: Partial<VerifyImageInput> = {},
  credentialsRef?: string,
): VerifyImageInput {
  const ref =
    credentialsRef ??
    { ftp: 'image-ftp', ftps: 'image-ftps', sftp: 'image-ssh', scp: 'image-ssh' }[protocol as string];
  return {
    source: {
      imageFile,
      protocol,
      server: {
        host: server.host,
        port: server.port,
        ...(server.hostKey ? { hostKey: server.hostKey } : {}),
      },
      ...(ref ? { credentialsRef: ref } : {}),
    },
    models: ['A7210', 'A7240'],
    ...more,
  };
}

const protocols = everyProtocol(() => imageServers);

test.each(protocols)('%s: a good image is verified from its header alone', async (protocol, server) => {
  const verified = await verify(
    input(server(), protocol, good.name, { expectedVersion: '6.4.0.0', expectedBuild: 81234 }),
  );
  expect(verified).toEqual({ ...good.header, bytesRead: expect.any(Number) });
  expect(verified.bytesRead).toBeGreaterThanOrEqual(HEADER_SIZE);
  expect(verified.bytesRead).toBeLessThan(good.bytes.length);
  const line = logLines
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((l) => l.msg === 'image verified');
  expect(line).toMatchObject({
    image: good.name,
    server: `127.0.0.1:${server().port}`,
    protocol,
    version: '6.4.0.0',
  });
});

test.each(protocols)(
  '%s: an image for another platform is refused, naming model and type',
  async (protocol, server) => {
    const err = await failure(verify(input(server(), protocol, other.name)));
    expect(err.type).toBe(failureTypes.imageVerificationFailed);
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toBe(
      `image ${other.name} on 127.0.0.1:${server().port} is type 70xx, not for model A7210 (72xx) or model A7240 (72xx)`,
    );
  },
);

test('a corrupt header fails its checksum', async () => {
  const err = await failure(verify(input(ftp, 'ftp', 'ArubaOS_72xx_corrupt')));
  expect(err.type).toBe(failureTypes.imageVerificationFailed);
  expect(err.nonRetryable).toBe(true);
  expect(err.message).toBe(
    `image ArubaOS_72xx_corrupt on 127.0.0.1:${ftp.port}: image header checksum does not match: the header is corrupt`,
  );
});

test('a file shorter than a header is reported truncated', async () => {
  const err = await failure(verify(input(ssh, 'sftp', 'ArubaOS_72xx_truncated')));
  expect(err.type).toBe(failureTypes.imageVerificationFailed);
  expect(err.message).toBe(
    `image ArubaOS_72xx_truncated on 127.0.0.1:${ssh.port}: image header truncated: got 100 bytes, need 256`,
  );
});

test('a file that is not an image has a bad magic', async () => {
  const err = await failure(verify(input(http, 'http', 'ArubaOS_72xx_zip')));
  expect(err.type).toBe(failureTypes.imageVerificationFailed);
  expect(err.message).toMatch(
    new RegExp(`^image ArubaOS_72xx_zip on 127.0.0.1:${http.port}: not an image: bad magic 504b0304`),
  );
});

test.each(protocols)(
  '%s: a missing file is a verification failure naming file and server',
  async (protocol, server) => {
    const err = await failure(verify(input(server(), protocol, 'ArubaOS_72xx_6.9.9.9_1')));
    expect(err.type).toBe(failureTypes.imageVerificationFailed);
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toMatch(
      new RegExp(`^image ArubaOS_72xx_6\\.9\\.9\\.9_1 not found on 127\\.0\\.0\\.1:${server().port}: `),
    );
  },
);

test('the profile’s expected version and build are enforced', async () => {
  const err = await failure(
    verify(input(ftp, 'ftp', good.name, { expectedVersion: '6.4.1.0', expectedBuild: 9 })),
  );
  expect(err.type).toBe(failureTypes.imageVerificationFailed);
  expect(err.message).toBe(
    `image ${good.name} on 127.0.0.1:${ftp.port} is version 6.4.0.0, the profile expects 6.4.1.0; is build 81234, the profile expects 9`,
  );
});

test.each([
  ['ftp', 'image-wrong', () => ftp],
  ['sftp', 'image-ssh-wrong', () => ssh],
] as const)(
  '%s: a refused login is an authentication failure, without the password anywhere',
  async (protocol, ref, server) => {
    const err = await failure(verify(input(server(), protocol, good.name, {}, ref)));
    expect(err.type).toBe(failureTypes.authenticationFailed);
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toContain(
      `image server 127.0.0.1:${server().port} refused the login of credentials "${ref}"`,
    );
    expect(err.message).not.toContain('Wrong-Password-1');
    expect(logLines.join('')).not.toContain('Wrong-Password-1');
    expect(logLines.join('')).not.toContain(server().password!);
  },
);

const staleKey = `SHA256:${'B'.repeat(43)}`;

test('an SSH server whose key is not the pinned one is a host-key mismatch', async () => {
  const base = input(ssh, 'scp', good.name, {}, 'image-ssh-stale-key');
  const err = await failure(
    verify({ ...base, source: { ...base.source, server: { ...base.source.server, hostKey: staleKey } } }),
  );
  expect(err.type).toBe(failureTypes.hostKeyMismatch);
  expect(err.nonRetryable).toBe(true);
  expect(err.message).toBe(
    `image server 127.0.0.1:${ssh.port}: host key of 127.0.0.1:${ssh.port} is ${ssh.hostKey}, but ${staleKey} is pinned`,
  );
});

test('a key pinned in the input that the worker does not trust is refused before connecting', async () => {
  const base = input(ssh, 'scp', good.name);
  const err = await failure(
    verify({ ...base, source: { ...base.source, server: { ...base.source.server, hostKey: staleKey } } }),
  );
  expect(err.type).toBe(failureTypes.credentialsNotAllowed);
  expect(err.nonRetryable).toBe(true);
  expect(err.message).toContain(`host key ${staleKey} pinned in the input is not trusted (allow.hostKeys`);
});

test('without a pinned key the worker’s known_hosts decides; an unknown host is refused', async () => {
  const base = input(ssh, 'sftp', good.name, {}, 'image-ssh-known-hosts');
  const unpinned = { ...base, source: { ...base.source, server: { host: ssh.host, port: ssh.port } } };
  await expect(verify(unpinned, { knownHostsFile: ssh.knownHostsFile })).resolves.toMatchObject({
    build: 81234,
  });
  const empty = join(work, 'known_hosts');
  await writeFile(empty, '');
  const err = await failure(verify(unpinned, { knownHostsFile: empty }));
  expect(err.type).toBe(failureTypes.hostKeyMismatch);
  expect(err.message).toContain('is not in known_hosts file');
});

test.each(['ftp', 'sftp', 'http'] as const)(
  '%s: a server that is down is retryable, with the cause',
  async (protocol) => {
    const port = await freePort();
    const base = input(ssh, protocol, good.name, {}, protocol === 'http' ? undefined : 'image-any-port');
    const err = await failure(
      verify({ ...base, source: { ...base.source, server: { ...base.source.server, port } } }),
    );
    expect(err.type).toBe(failureTypes.imageServerUnreachable);
    expect(err.nonRetryable).toBe(false);
    expect(err.message).toMatch(
      new RegExp(
        `^image server 127\\.0\\.0\\.1:${port} unreachable: ${protocol}://127\\.0\\.0\\.1:${port}\\S* is unreachable \\(ECONNREFUSED\\)$`,
      ),
    );
  },
);

test('an unknown credentials reference is its own failure', async () => {
  const base = input(ftp, 'ftp', good.name);
  const err = await failure(verify({ ...base, source: { ...base.source, credentialsRef: 'nobody-knows' } }));
  expect(err.type).toBe(failureTypes.unknownCredentials);
  expect(err.nonRetryable).toBe(true);
  expect(err.message).toContain('credentials reference "nobody-knows"');
});

test('bad input names the field', async () => {
  const base = input(ftp, 'ftp', good.name);
  const err = await failure(
    verify({ ...base, source: { ...base.source, imageFile: '../etc/passwd' }, models: [] }),
  );
  expect(err.type).toBe(failureTypes.invalidInput);
  expect(err.message).toBe(
    'verifyImage.source.imageFile must be a file name: letters, digits and ._+- in each /-separated part, none starting with . or -, each at most 128 characters; verifyImage.models must name at least one model',
  );
});

test('a header announcing a huge payload is refused as oversize', async () => {
  const header = encodeImageHeader({ ...good.header, payloadLength: 1 });
  header.writeBigUInt64BE(2n ** 50n, 64);
  // Recompute the checksum so only the length is wrong.
  createHash('sha256').update(header.subarray(0, 224)).digest().copy(header, 224);
  await http.addFile('ArubaOS_72xx_huge', header);
  const err = await failure(verify(input(http, 'http', 'ArubaOS_72xx_huge')));
  expect(err.type).toBe(failureTypes.imageVerificationFailed);
  expect(err.message).toContain('announces a 1125899906842624-byte payload, more than the');
});

describe('image signatures (the worker trusts the test signer only)', () => {
  const signerId = [...testImageKeys.keys()][0]!;

  test('a good image says which trusted key signed it', async () => {
    await expect(verify(input(http, 'http', good.name))).resolves.toMatchObject({ signedBy: signerId });
  });

  test('an unsigned image is refused, naming the image', async () => {
    const err = await failure(verify(input(ftp, 'ftp', 'ArubaOS_72xx_unsigned')));
    expect(err.type).toBe(failureTypes.imageNotTrusted);
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toBe(
      `image ArubaOS_72xx_unsigned on ${ftp.host}:${ftp.port} is not signed, and the upgrade-profile does not allow unsigned images`,
    );
  });

  test('an image signed by a key the worker does not trust is refused, naming the key id', async () => {
    const err = await failure(verify(input(http, 'http', 'ArubaOS_72xx_stranger')));
    expect(err.type).toBe(failureTypes.imageNotTrusted);
    expect(err.message).toBe(
      `image ArubaOS_72xx_stranger on ${http.host}:${http.port} is signed by key ${strangerKey.keyId}, which this worker does not trust (CIU_IMAGE_KEYS)`,
    );
    expect(strangerKey.keyId).not.toBe(signerId);
  });

  test('a signed header changed afterwards (checksum recomputed) is refused', async () => {
    const err = await failure(verify(input(http, 'http', 'ArubaOS_72xx_tampered')));
    expect(err.type).toBe(failureTypes.imageNotTrusted);
    expect(err.message).toBe(
      `image ArubaOS_72xx_tampered on ${http.host}:${http.port} has a signature of key ${signerId} that does not match its header: the header was changed after signing`,
    );
  });

  test('a profile that allows unsigned images accepts unsigned and unknown-signer images, not a broken signature', async () => {
    const allowed = { allowUnsigned: true };
    const plain = await verify(input(ftp, 'ftp', 'ArubaOS_72xx_unsigned', allowed));
    expect(plain).toMatchObject({ version: '6.4.0.0', build: 81234 });
    expect(plain.signedBy).toBeUndefined();
    await expect(verify(input(http, 'http', 'ArubaOS_72xx_stranger', allowed))).resolves.toMatchObject({
      build: 81234,
    });
    const err = await failure(verify(input(http, 'http', 'ArubaOS_72xx_tampered', allowed)));
    expect(err.type).toBe(failureTypes.imageNotTrusted);
  });

  test('a worker that trusts no key refuses even a signed image', async () => {
    const err = await failure(verify(input(http, 'http', good.name), { trustedImageKeys: new Map() }));
    expect(err.type).toBe(failureTypes.imageNotTrusted);
    expect(err.message).toContain(`is signed by key ${signerId}, which this worker does not trust`);
  });
});
