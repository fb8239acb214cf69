import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, defaultPayloadConverter, type Payload } from '@temporalio/common';
import { failureTypes } from '../../src/domain/errors';
import { ciuDataConverter } from '../../src/temporal/data-converter';
import { loadKeyRing, type KeyRing } from '../../src/temporal/keys';
import { CompressionCodec } from '../../src/temporal/payload-compression';
import type { LocalTemporal } from '../../devkit/stack';
import { freePort } from '../../devkit/temporal/free-port';
import { masterUpgrade } from '../../workflows';
import { eventually } from '../fixtures/eventually';
import { runCiu } from '../fixtures/processes';
import { startTestTemporal, temporalCliPath } from '../fixtures/temporal';
import { withWorker } from '../fixtures/worker';
import { campaignConfig, controller, fakeActivities, installQuietRuntime } from '../workflow/fake-activities';

// Payload encryption on the real dev server: a worker and a client with the codec, then what a
// reader of the history sees — the `temporal` CLI without the codec, with ciu's codec server as
// its --codec-endpoint, and `ciu show upgrade status` with and without the key file.
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'ciu-encryption-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const keyFile = join(dir, 'payload-keys.yaml');
const controllerIp = '10.1.4.17';
const imageServer = '10.0.0.5';
const cause = `cannot read the image header from ftp://${imageServer}:21: connection refused`;
let temporal: LocalTemporal;
let keys: KeyRing;

beforeAll(async () => {
  installQuietRuntime();
  const added = await runCiu('127.0.0.1:1', dir, ['keys', 'add', keyFile, '--id', 'k1']);
  expect(added).toMatchObject({ code: 0, stdout: `key k1 added to ${keyFile}; it is now the current key\n` });
  keys = loadKeyRing(keyFile);
  temporal = await startTestTemporal();
});

afterAll(() => temporal?.stop());

function temporalCli(...args: string[]): Promise<string> {
  return run(temporalCliPath(), [...args, '--address', temporal.dev.address], { maxBuffer: 16 << 20 }).then(
    ({ stdout }) => stdout,
  );
}

/** The status of a POST that declares `bytes` of body and sends none of it. */
function statusForDeclaredBody(port: number, bytes: number): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path: '/decode',
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Content-Length': String(bytes) },
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode);
      req.destroy();
    });
    req.on('error', reject);
    req.flushHeaders();
  });
}

function startCodecServer(port: number, withKeys = true): { process: ChildProcess; output: () => string } {
  const { CIU_PAYLOAD_KEYS: _keys, ...env } = process.env;
  const child = spawn(
    process.execPath,
    [
      join(__dirname, '../../bin/ciu.js'),
      'codec-server',
      ...(withKeys ? ['--payload-keys', keyFile] : []),
      '--port',
      String(port),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env },
  );
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  return { process: child, output: () => output };
}

test('history at rest holds ciphertext; the codec server and ciu with the key file read it', async () => {
  const { activities } = fakeActivities({
    verifyImage: async () => {
      throw ApplicationFailure.nonRetryable(cause, failureTypes.imageVerificationFailed);
    },
  });
  const config = campaignConfig([controller(controllerIp)]);
  config.profile.models.A7210 = { ...config.profile.models.A7210!, server: { host: imageServer, port: 21 } };
  const worker = { connection: temporal.workerConnection, activities, payloadKeys: keys };
  // The worker keeps running: ciu's status query on the closed campaign is answered by a worker.
  await withWorker(worker, async (taskQueue) => {
    const client = new Client({
      connection: temporal.client.connection,
      dataConverter: ciuDataConverter({ payloadKeys: keys }),
    });
    const handle = await client.workflow.start(masterUpgrade, {
      taskQueue,
      workflowId: `encrypted-${taskQueue}`,
      args: [config],
    });
    const campaign = handle.workflowId;
    const err = await handle.result().catch((e: unknown) => e);
    // The client with the key reads the failure's message, which history holds encrypted.
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause?.message).toContain(cause);

    // Without the codec: ciphertext, no inventory, no address, no error text.
    const raw = await temporalCli('workflow', 'show', '--workflow-id', campaign, '--output', 'json');
    expect(raw).toContain(Buffer.from('binary/encrypted').toString('base64'));
    for (const clear of [
      controllerIp,
      imageServer,
      'connection refused',
      'ArubaOS_72xx',
      'ftp-images',
      'nothing dispatched',
    ])
      expect(raw).not.toContain(clear);
    expect(raw).not.toContain(Buffer.from(controllerIp).toString('base64'));

    // Through ciu's codec server, the temporal CLI shows the input and the failure.
    const port = await freePort();
    const server = startCodecServer(port);
    try {
      await eventually(async () => server.output().includes(`codec server on http://127.0.0.1:${port}`), {
        what: () => `codec server listening; output: ${server.output()}`,
      });
      const decoded = await temporalCli(
        'workflow',
        'show',
        '--workflow-id',
        campaign,
        '--output',
        'json',
        '--codec-endpoint',
        `http://127.0.0.1:${port}`,
      );
      // `--output json` keeps payloads as proto JSON: their data is base64 of what the codec returned.
      const shown = [...decoded.matchAll(/"data": "([A-Za-z0-9+/=]*)"/g)]
        .map(([, data]) => Buffer.from(data ?? '', 'base64').toString('utf8'))
        .join('\n');
      expect(shown).toContain(controllerIp);
      expect(shown).toContain(
        `image verification failed, nothing dispatched: A7210 ArubaOS_72xx_6.4.0.0_81234: ${cause}`,
      );
      expect(decoded).not.toContain(Buffer.from('binary/encrypted').toString('base64'));

      // A browser page from another origin gets no answer; a body over the limit is refused unread.
      const foreign = await fetch(`http://127.0.0.1:${port}/decode`, {
        method: 'POST',
        headers: { Origin: 'http://127.0.0.9:8233', 'Content-Type': 'application/json' },
        body: '{"payloads":[]}',
      });
      expect(foreign.status).toBe(403);
      expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
      expect(await statusForDeclaredBody(port, 5 * 1024 * 1024)).toBe(413);
      const preflight = await fetch(`http://127.0.0.1:${port}/decode`, {
        method: 'OPTIONS',
        headers: {
          Origin: 'http://127.0.0.1:8233',
          'Access-Control-Request-Headers': 'content-type,x-namespace',
        },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:8233');
      expect(preflight.headers.get('access-control-allow-headers')).toContain('x-namespace');
    } finally {
      server.process.kill('SIGINT');
    }

    // ciu decodes the status query's answer with the key file, and cannot without it.
    const args = ['show', 'upgrade', 'status', '--campaign', campaign, '--json'];
    const status = await runCiu(temporal.dev.address, dir, args, { CIU_PAYLOAD_KEYS: keyFile });
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      phase: 'verification-failed',
      controllers: [{ ip: controllerIp }],
    });
    const keyless = await runCiu(temporal.dev.address, dir, args);
    expect(keyless.code).not.toBe(0);
    expect(keyless.stdout).not.toContain(controllerIp);
  });
});

test('without payload keys the codec server still inflates what workers deflated (payloads over 128 KiB)', async () => {
  const large = { controllers: Array.from({ length: 5_000 }, (_, i) => `10.9.${i >> 8}.${i & 255}`) };
  const [deflated] = (await new CompressionCodec().encode([
    defaultPayloadConverter.toPayload(large) as Payload,
  ])) as [Payload];
  const port = await freePort();
  const server = startCodecServer(port, false);
  try {
    await eventually(async () => server.output().includes('inflates compressed payloads only') || undefined, {
      timeoutMs: 20_000,
      what: () => `the keyless codec server to listen; output: ${server.output()}`,
    });
    const base64 = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('base64');
    const response = await fetch(`http://127.0.0.1:${port}/decode`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        payloads: [
          {
            metadata: Object.fromEntries(
              Object.entries(deflated.metadata ?? {}).map(([k, v]) => [k, base64(v)]),
            ),
            data: base64(deflated.data),
          },
        ],
      }),
    });
    expect(response.status).toBe(200);
    const { payloads } = (await response.json()) as { payloads: Array<{ data: string }> };
    expect(JSON.parse(Buffer.from(payloads[0]!.data, 'base64').toString('utf8'))).toEqual(large);
  } finally {
    server.process.kill('SIGTERM');
  }
});
