/**
 * A read-only path to the Temporal frontend for the CLI's most repeated call, `ciu show upgrade
 * status`: QueryWorkflow and DescribeWorkflowExecution over grpc-js, with only the protobuf fields
 * they carry. @temporalio/client builds reflection for every Temporal protobuf type when it loads,
 * which was most of that call's start-up (npm run bench:cli); everything else goes through the SDK.
 * The channel is set up as the SDK's Connection sets it up (TLS, mTLS, server name, API key, gRPC
 * metadata, the namespace header), and payloads pass through the same payload codecs.
 */
import type { ChannelCredentials } from '@grpc/grpc-js';
import {
  Client as GrpcClient,
  credentials as grpcCredentials,
  Metadata,
  status as grpcStatus,
  type ServiceError,
} from '@grpc/grpc-js';
import { defaultPayloadConverter, type Payload, type PayloadCodec } from '@temporalio/common';
import type { TemporalConnection } from './connection';
import {
  bytesField,
  bytesFields,
  decodeMessage,
  encodeMessage,
  varintField,
  type WireField,
} from './protobuf-wire';

/** The workflow (or campaign) does not exist in the namespace. */
export class WorkflowNotFound extends Error {
  override readonly name = 'WorkflowNotFound';
  constructor(readonly workflowId: string) {
    super(`workflow ${workflowId} not found`);
  }
}

/** The frontend could not be reached or refused the caller; `cause` is the gRPC error. */
export class FrontendUnreachable extends Error {
  override readonly name = 'FrontendUnreachable';
}

/** What the CLI reads from the frontend. */
export interface FrontendReader {
  /** The answer of query `queryType` of the workflow's latest run. */
  query(workflowId: string, queryType: string, arg?: unknown): Promise<unknown>;
  /** The last heartbeat details (first value) of the workflow's pending activity of `activityType` (or one of them), if any. */
  pendingActivityHeartbeat(workflowId: string, activityType: string | readonly string[]): Promise<unknown>;
  close(): void;
}

const service = '/temporal.api.workflowservice.v1.WorkflowService';

// The SDK's retryable codes that a read may meet after connecting (a frontend restarting, throttling).
const retryable = new Set<number>([
  grpcStatus.UNAVAILABLE,
  grpcStatus.RESOURCE_EXHAUSTED,
  grpcStatus.ABORTED,
]);
const maxAttempts = 10;
const refusals = new Set<number>([grpcStatus.UNAUTHENTICATED, grpcStatus.PERMISSION_DENIED]);

function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as Partial<ServiceError>).code === 'number';
}

/** TLS as the SDK's Connection normalises it: an API key alone turns it on, `false` keeps it off. */
function channelCredentials(temporal: TemporalConnection): {
  credentials: ChannelCredentials;
  options: Record<string, string>;
} {
  const { tls, apiKey } = temporal.connectionOptions;
  const on = tls ?? (apiKey !== undefined ? true : undefined);
  if (!on) return { credentials: grpcCredentials.createInsecure(), options: {} };
  const config = typeof on === 'object' ? on : {};
  const pair = config.clientCertPair;
  return {
    credentials: grpcCredentials.createSsl(
      config.serverRootCACertificate ? Buffer.from(config.serverRootCACertificate) : null,
      pair ? Buffer.from(pair.key) : null,
      pair ? Buffer.from(pair.crt) : null,
    ),
    options: config.serverNameOverride
      ? {
          'grpc.ssl_target_name_override': config.serverNameOverride,
          'grpc.default_authority': config.serverNameOverride,
        }
      : {},
  };
}

function payloadFields(payload: Payload): WireField[] {
  return [
    ...Object.entries(payload.metadata ?? {}).map(([key, value]): WireField => [
      1,
      [
        [1, key],
        [2, value ?? undefined],
      ],
    ]),
    [2, payload.data ?? undefined],
  ];
}

function decodePayload(bytes: Buffer): Payload {
  const fields = decodeMessage(bytes);
  const metadata: Record<string, Uint8Array> = {};
  for (const entry of bytesFields(fields, 1)) {
    const kv = decodeMessage(entry);
    metadata[(bytesField(kv, 1) ?? Buffer.alloc(0)).toString('utf8')] = bytesField(kv, 2) ?? Buffer.alloc(0);
  }
  return { metadata, data: bytesField(fields, 2) ?? Buffer.alloc(0) };
}

/** The first payload of a Payloads message, if any. */
function firstPayload(payloads: Buffer | undefined): Payload | undefined {
  const [first] = bytesFields(decodeMessage(payloads ?? Buffer.alloc(0)), 1);
  return first && decodePayload(first);
}

/** temporal.api.workflowservice.v1.QueryWorkflowRequest for the workflow's latest run. */
export function queryWorkflowRequest(
  namespace: string,
  workflowId: string,
  queryType: string,
  args: readonly Payload[],
): Buffer {
  return encodeMessage([
    [1, namespace],
    [2, [[1, workflowId]]],
    [
      3,
      [
        [1, queryType],
        [2, args.map((p): WireField => [1, payloadFields(p)])],
      ],
    ],
  ]);
}

/** QueryWorkflowResponse: the answer's first payload, or the workflow status a rejection names. */
export function queryWorkflowAnswer(
  response: Uint8Array,
): { payload: Payload } | { rejectedStatus: number | undefined } | undefined {
  const fields = decodeMessage(response);
  const rejected = bytesField(fields, 2);
  if (rejected) return { rejectedStatus: varintField(decodeMessage(rejected), 1) };
  const payload = firstPayload(bytesField(fields, 1));
  return payload && { payload };
}

/** temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest for the workflow's latest run. */
export function describeWorkflowRequest(namespace: string, workflowId: string): Buffer {
  return encodeMessage([
    [1, namespace],
    [2, [[1, workflowId]]],
  ]);
}

/** DescribeWorkflowExecutionResponse: the first heartbeat payload of the pending activity of `activityType`. */
export function pendingActivityHeartbeatPayload(
  response: Uint8Array,
  activityType: string | readonly string[],
): Payload | undefined {
  const types: readonly string[] = typeof activityType === 'string' ? [activityType] : activityType;
  for (const activity of bytesFields(decodeMessage(response), 3).map((b) => decodeMessage(b))) {
    const type = bytesField(activity, 2);
    if (type && types.includes(bytesField(decodeMessage(type), 1)?.toString('utf8') ?? ''))
      return firstPayload(bytesField(activity, 4));
  }
  return undefined;
}

/**
 * Opens a channel to the frontend and waits until it is ready (at most `connectTimeoutMs`, as
 * `Connection.connect`). Fails with FrontendUnreachable when it is not.
 */
export async function openFrontendReader(
  temporal: TemporalConnection,
  codecs: readonly PayloadCodec[],
  { connectTimeoutMs = 5_000 }: { connectTimeoutMs?: number } = {},
): Promise<FrontendReader> {
  const { credentials, options } = channelCredentials(temporal);
  const client = new GrpcClient(temporal.connectionOptions.address, credentials, options);
  try {
    await new Promise<void>((resolve, reject) =>
      client.waitForReady(Date.now() + connectTimeoutMs, (err) => (err ? reject(err) : resolve())),
    );
  } catch (err) {
    client.close();
    throw new FrontendUnreachable((err as Error).message);
  }
  const { namespace } = temporal;
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(temporal.connectionOptions.metadata ?? {}))
    metadata.set(key, value);
  metadata.set('temporal-namespace', namespace);
  if (temporal.connectionOptions.apiKey)
    metadata.set('authorization', `Bearer ${temporal.connectionOptions.apiKey}`);

  const unary = (method: string, request: Buffer) =>
    new Promise<Buffer>((resolve, reject) =>
      client.makeUnaryRequest(
        `${service}/${method}`,
        (b: Buffer) => b,
        (b: Buffer) => b,
        request,
        metadata,
        (err, response) => (err || !response ? reject(err) : resolve(response)),
      ),
    );

  /** One call, retried like the SDK retries; refusals and an unreachable frontend are FrontendUnreachable. */
  const call = async (method: string, request: Buffer, workflowId: string): Promise<Buffer> => {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await unary(method, request);
      } catch (err) {
        if (!isServiceError(err)) throw err;
        if (retryable.has(err.code) && attempt < maxAttempts) {
          await new Promise((r) => setTimeout(r, Math.min(5_000, 100 * 2 ** attempt)));
          continue;
        }
        if (err.code === grpcStatus.NOT_FOUND) throw new WorkflowNotFound(workflowId);
        if (refusals.has(err.code) || err.code === grpcStatus.UNAVAILABLE)
          throw new FrontendUnreachable('Failed to connect to Temporal server', { cause: err });
        // INVALID_ARGUMENT carries the workflow's own words (a query it refused or does not know).
        if (err.code === grpcStatus.INVALID_ARGUMENT) throw new Error(err.details, { cause: err });
        throw new Error(`${method} ${workflowId} failed: ${err.details} (${grpcStatus[err.code]})`, {
          cause: err,
        });
      }
    }
  };

  const decode = async (payload: Payload): Promise<unknown> => {
    let decoded = [payload];
    for (const codec of [...codecs].reverse()) decoded = await codec.decode(decoded);
    return defaultPayloadConverter.fromPayload(decoded[0] as Payload);
  };

  return {
    async query(workflowId, queryType, arg) {
      let args = arg === undefined ? [] : [defaultPayloadConverter.toPayload(arg)];
      for (const codec of codecs) args = await codec.encode(args);
      const request = queryWorkflowRequest(namespace, workflowId, queryType, args);
      const answer = queryWorkflowAnswer(await call('QueryWorkflow', request, workflowId));
      if (!answer) throw new Error(`query ${queryType} of ${workflowId} returned no answer`);
      if ('rejectedStatus' in answer)
        throw new Error(
          `query ${queryType} of ${workflowId} rejected (workflow status ${answer.rejectedStatus ?? 'unknown'})`,
        );
      return decode(answer.payload);
    },

    async pendingActivityHeartbeat(workflowId, activityType) {
      const request = describeWorkflowRequest(namespace, workflowId);
      const response = await call('DescribeWorkflowExecution', request, workflowId);
      const payload = pendingActivityHeartbeatPayload(response, activityType);
      return payload && decode(payload);
    },

    close: () => client.close(),
  };
}
