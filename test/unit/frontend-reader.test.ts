import Long from 'long';
import { temporal } from '@temporalio/proto';
import { defaultPayloadConverter } from '@temporalio/common';
import {
  describeWorkflowRequest,
  pendingActivityHeartbeatPayload,
  queryWorkflowAnswer,
  queryWorkflowRequest,
} from '../../src/temporal/frontend-reader';
import { decodeMessage, encodeMessage, varintField, WireFormatError } from '../../src/temporal/protobuf-wire';

// The CLI's own encoding of the few Temporal messages it sends and reads, checked against the
// SDK's generated codecs (@temporalio/proto), so a wrong field number or wire type fails here.
const { QueryWorkflowRequest, QueryWorkflowResponse, DescribeWorkflowExecutionRequest } =
  temporal.api.workflowservice.v1;
const { DescribeWorkflowExecutionResponse } = temporal.api.workflowservice.v1;
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');

const request = { controller: '10.1.4.17', offset: 250, note: 'ünïcode ✓' };
const answer = { campaign: 'spring-2026', phase: 'running', counts: { downloading: 2 } };

test('QueryWorkflowRequest: namespace, workflow, query type and the argument payload, as the SDK reads them', () => {
  const arg = defaultPayloadConverter.toPayload(request);
  const decoded = QueryWorkflowRequest.decode(
    queryWorkflowRequest('fleet.a1b2c', 'spring-2026', 'upgradeStatus', [arg]),
  );
  expect(decoded.namespace).toBe('fleet.a1b2c');
  expect(decoded.execution?.workflowId).toBe('spring-2026');
  expect(decoded.execution?.runId).toBe('');
  expect(decoded.query?.queryType).toBe('upgradeStatus');
  const [payload] = decoded.query?.queryArgs?.payloads ?? [];
  expect(text(payload?.metadata?.encoding)).toBe('json/plain');
  expect(defaultPayloadConverter.fromPayload(payload!)).toEqual(request);
  expect(
    QueryWorkflowRequest.decode(queryWorkflowRequest('default', 'c', 'q', [])).query?.queryArgs?.payloads,
  ).toEqual([]);
});

test('DescribeWorkflowExecutionRequest: namespace and workflow', () => {
  const decoded = DescribeWorkflowExecutionRequest.decode(
    describeWorkflowRequest('default', 'spring-2026/10.1.4.17'),
  );
  expect(decoded).toMatchObject({ namespace: 'default', execution: { workflowId: 'spring-2026/10.1.4.17' } });
});

test('QueryWorkflowResponse: the answer payload (its metadata map intact) past fields the CLI does not read; a rejection', () => {
  const payload = { ...defaultPayloadConverter.toPayload(answer) };
  payload.metadata = { ...payload.metadata, 'encryption-key-id': Buffer.from('k1') };
  const response = QueryWorkflowResponse.encode({
    queryResult: { payloads: [payload, defaultPayloadConverter.toPayload('second')] },
    link: { workflowEvent: { namespace: 'default', workflowId: 'spring-2026', runId: 'r1' } },
  }).finish();
  const read = queryWorkflowAnswer(response);
  expect(read && 'payload' in read).toBe(true);
  const first = (read as { payload: typeof payload }).payload;
  expect(Object.keys(first.metadata ?? {}).sort()).toEqual(['encoding', 'encryption-key-id']);
  expect(text(first.metadata?.['encryption-key-id'])).toBe('k1');
  expect(defaultPayloadConverter.fromPayload(first)).toEqual(answer);

  const terminated = temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TERMINATED;
  const rejected = QueryWorkflowResponse.encode({
    queryRejected: {
      status: terminated,
    },
  }).finish();
  expect(queryWorkflowAnswer(rejected)).toEqual({ rejectedStatus: terminated });
  expect(queryWorkflowAnswer(QueryWorkflowResponse.encode({}).finish())).toBeUndefined();
});

test('DescribeWorkflowExecutionResponse: the heartbeat of the named pending activity, past timestamps, negative and 64-bit numbers', () => {
  const heartbeat = { bytes: 12_345_678, totalBytes: 33_554_432 };
  const response = DescribeWorkflowExecutionResponse.encode({
    executionConfig: {
      taskQueue: { name: 'ciu' },
      defaultWorkflowTaskTimeout: { seconds: Long.fromNumber(10) },
    },
    workflowExecutionInfo: {
      execution: { workflowId: 'spring-2026/10.1.4.17', runId: 'r1' },
      type: { name: 'controllerUpgrade' },
      startTime: { seconds: Long.fromNumber(1_795_000_000), nanos: 5 },
      historyLength: Long.fromNumber(Number.MAX_SAFE_INTEGER),
      historySizeBytes: Long.fromNumber(123_456),
    },
    pendingActivities: [
      {
        activityId: '1',
        activityType: { name: 'inspectController' },
        heartbeatDetails: { payloads: [defaultPayloadConverter.toPayload({ bytes: 1 })] },
        attempt: -1,
      },
      {
        activityId: '2',
        activityType: { name: 'downloadImage' },
        state: temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED,
        heartbeatDetails: { payloads: [defaultPayloadConverter.toPayload(heartbeat)] },
        lastHeartbeatTime: { seconds: Long.fromNumber(1_795_000_100) },
        attempt: 3,
      },
    ],
  }).finish();
  const payload = pendingActivityHeartbeatPayload(response, 'downloadImage');
  expect(defaultPayloadConverter.fromPayload(payload!)).toEqual(heartbeat);
  expect(pendingActivityHeartbeatPayload(response, 'rebootController')).toBeUndefined();
  // A child runs downloadImage (before the child-fewer-tasks patch) or downloadAndVerifyImage: either is found.
  const either = pendingActivityHeartbeatPayload(response, ['downloadAndVerifyImage', 'downloadImage']);
  expect(defaultPayloadConverter.fromPayload(either!)).toEqual(heartbeat);
  const none = DescribeWorkflowExecutionResponse.encode({
    pendingActivities: [{ activityId: '2', activityType: { name: 'downloadImage' } }],
  }).finish();
  expect(pendingActivityHeartbeatPayload(none, 'downloadImage')).toBeUndefined();
});

test('varints written and read as protobuf writes them, at every length', () => {
  const { WorkflowExecutionInfo } = temporal.api.workflow.v1;
  for (const value of [1, 127, 128, 300, 16_383, 16_384, 2 ** 31, 2 ** 32 + 1, Number.MAX_SAFE_INTEGER]) {
    const theirs = Buffer.from(
      WorkflowExecutionInfo.encode({ historyLength: Long.fromNumber(value) }).finish(),
    );
    expect(encodeMessage([[6, value]])).toEqual(theirs);
    expect(varintField(decodeMessage(theirs), 6)).toBe(value);
  }
  expect(() => encodeMessage([[1, -1]])).toThrow(WireFormatError);
  expect(() => encodeMessage([[1, 1.5]])).toThrow(WireFormatError);
});

test('a truncated or malformed message is an error, not a partial answer', () => {
  const whole = queryWorkflowRequest('default', 'spring-2026', 'upgradeStatus', []);
  expect(() => decodeMessage(whole.subarray(0, whole.length - 3))).toThrow(WireFormatError);
  expect(() => decodeMessage(Buffer.from([0x08, 0x80]))).toThrow(WireFormatError);
  expect(() => decodeMessage(Buffer.from([0x0b]))).toThrow(/wire type 3/);
  expect(() => decodeMessage(Buffer.from([0x08, ...Array<number>(10).fill(0xff), 0x01]))).toThrow(
    /longer than 10 bytes/,
  );
});
