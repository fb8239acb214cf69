import { Writable } from 'node:stream';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { Runtime } from '@temporalio/worker';
import pino from 'pino';
import type { VerifyImageInput } from '../../activities/types';
import { createImageActivities } from '../../activities/verify-image';
import { staticCredentialStore } from '../../src/credentials/store';
import { failureTypes } from '../../src/domain/errors';
import type { LocalTemporal, RunningWorker } from '../../devkit/stack';
import { freePort } from '../../devkit/temporal/free-port';
import { createTestImage, startSshServer, testImageKeys, type LocalImageServer } from '../fixtures/servers';
import { startTestTemporal } from '../fixtures/temporal';
import { silentSdkLogger, startTestWorker } from '../fixtures/worker';
import { verifyImageProbe } from './verify-image-probe.workflow';

// verifyImage on a real Worker against the real dev server and a real sshd: the failure types and
// retry behaviour the master workflow sees, and no secret in the workflow history.
const good = createTestImage({ imageType: '72xx', version: '6.4.0.0', build: 81234 });
const wrong = createTestImage({ imageType: 'MMC', version: '6.4.0.0', build: 81234 });

let temporal: LocalTemporal;
let ssh: LocalImageServer;
let worker: RunningWorker & { taskQueue: string };

beforeAll(async () => {
  Runtime.install({ logger: silentSdkLogger });
  [temporal, ssh] = await Promise.all([
    startTestTemporal(),
    startSshServer({ files: { [good.name]: good.bytes, [wrong.name]: wrong.bytes } }),
  ]);
  const activities = createImageActivities({
    // Any port of the server's address: one test points at a port where nothing listens.
    credentials: staticCredentialStore({
      'image-ssh': { ...ssh.credentials!, allow: { ...ssh.credentials!.allow, ports: undefined } },
    }),
    logger: pino({ level: 'silent' }, new Writable({ write: (_c, _e, done) => done() })),
    trustedImageKeys: testImageKeys,
  });
  worker = await startTestWorker({
    connection: temporal.workerConnection,
    activities,
    workflowsPath: require.resolve('./verify-image-probe.workflow'),
  });
});

afterAll(async () => {
  await worker?.stop();
  await Promise.all([temporal?.stop(), ssh?.stop()]);
});

function source(imageFile: string, port = ssh.port): VerifyImageInput['source'] {
  return {
    imageFile,
    protocol: 'sftp',
    server: { host: ssh.host, port, hostKey: ssh.hostKey },
    credentialsRef: 'image-ssh',
  };
}

async function run(input: VerifyImageInput, id: string) {
  const handle = await temporal.client.workflow.start(verifyImageProbe, {
    taskQueue: worker.taskQueue,
    workflowId: `${id}-${Date.now()}`,
    args: [input],
  });
  const outcome = await handle.result().then(
    (value) => ({ value, error: undefined }),
    (error: unknown) => ({ value: undefined, error }),
  );
  // Payloads are base64 in the history's JSON form: decode them so the assertions read what is stored.
  const history = JSON.stringify(await handle.fetchHistory()).replace(
    /"data":"([A-Za-z0-9+/=]*)"/g,
    (_m, b64: string) => JSON.stringify(Buffer.from(b64, 'base64').toString('utf8')),
  );
  const attempts = (history.match(/"attempt":\s*(\d+)/g) ?? []).map((m) => Number(m.replace(/\D/g, '')));
  return { ...outcome, history, attempts: Math.max(1, ...attempts) };
}

function applicationFailure(error: unknown): ApplicationFailure {
  expect(error).toBeInstanceOf(WorkflowFailedError);
  const activity = (error as WorkflowFailedError).cause;
  expect(activity).toBeInstanceOf(ActivityFailure);
  const cause = (activity as ActivityFailure).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return cause as ApplicationFailure;
}

test('a good image verifies through a real worker, with no secret in the history', async () => {
  const { value, history } = await run(
    { source: source(good.name), models: ['A7210'], expectedBuild: 81234 },
    'good',
  );
  expect(value).toMatchObject({ imageType: '72xx', version: '6.4.0.0', build: 81234, bytesRead: 256 });
  expect(history).toContain('image-ssh');
  expect(history).not.toContain(ssh.password!);
});

test('an image for another platform fails the workflow at once, without retries', async () => {
  const { error, attempts } = await run({ source: source(wrong.name), models: ['A7210'] }, 'wrong-model');
  const failure = applicationFailure(error);
  expect(failure.type).toBe(failureTypes.imageVerificationFailed);
  expect(failure.message).toBe(
    `image ${wrong.name} on 127.0.0.1:${ssh.port} is type MMC, not for model A7210 (72xx)`,
  );
  expect(attempts).toBe(1);
});

test('a server that is down is retried, then fails as unreachable', async () => {
  const port = await freePort();
  const { error, attempts } = await run({ source: source(good.name, port), models: ['A7210'] }, 'down');
  const failure = applicationFailure(error);
  expect(failure.type).toBe(failureTypes.imageServerUnreachable);
  expect(failure.message).toContain(`image server 127.0.0.1:${port} unreachable`);
  expect(attempts).toBe(3);
});
