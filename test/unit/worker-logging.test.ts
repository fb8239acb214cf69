import { Writable } from 'node:stream';
import { ApplicationFailure } from '@temporalio/common';
import pino from 'pino';
import { boundedFailure } from '../../workers/bounded-failures';
import { sdkLogWriter } from '../../workers/runtime';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: pino({ level: 'trace' }, stream) };
}

test('the SDK\'s "Workflow failed" line carries the failure, not "error":{}', () => {
  const { lines, logger } = capture();
  const failure = ApplicationFailure.nonRetryable('inventory[0].ip is required', 'InvalidInput');
  sdkLogWriter(logger)('WARN', 'Workflow failed', { workflowId: 'spring', error: failure });
  expect(lines[0]).toMatchObject({
    msg: 'Workflow failed',
    workflowId: 'spring',
    error: { type: 'InvalidInput', message: 'inventory[0].ip is required', nonRetryable: true },
  });
});

test('a 10,000-character controller reply leaves the activity bounded, type and flags kept', () => {
  const reply = `% Error: ${'x'.repeat(10_000)}`;
  const thrown = ApplicationFailure.create({ message: reply, type: 'CommandRejected', nonRetryable: true });
  const bounded = boundedFailure(thrown) as ApplicationFailure;
  expect(bounded).toBeInstanceOf(ApplicationFailure);
  expect(bounded.message.length).toBeLessThanOrEqual(1_000);
  expect(bounded.stack!.length).toBeLessThan(3_000);
  expect(bounded).toMatchObject({ type: 'CommandRejected', nonRetryable: true });
  const plain = boundedFailure(new Error(reply)) as Error;
  expect(plain.message.length).toBeLessThanOrEqual(1_000);
  const short = new Error('550 Failed to open file.');
  expect(boundedFailure(short)).toBe(short);
});
