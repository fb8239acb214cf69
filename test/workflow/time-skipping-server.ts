import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createTimeSkippingEnv } from '../fixtures/temporal';
import { installQuietRuntime } from './fake-activities';
import { registerSearchAttributes } from './register-search-attributes';

/**
 * The time-skipping server for one test file: started before its tests with the quiet runtime and
 * ciu's search attributes registered, handed to `started`, torn down after them.
 */
export function useTimeSkippingServer(started: (env: TestWorkflowEnvironment) => void): void {
  let env: TestWorkflowEnvironment | undefined;
  beforeAll(async () => {
    installQuietRuntime();
    env = await createTimeSkippingEnv();
    await registerSearchAttributes(env);
    started(env);
  });
  afterAll(async () => {
    await env?.teardown();
  });
}
