import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ciuSearchAttributes } from '../../src/domain/search-attributes';

const indexedType = {
  Keyword: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  Int: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
} as const;

/**
 * Registers ciu's search attributes on the time-skipping server, which (unlike the dev-server
 * launcher's --search-attribute flags) starts with none and rejects upserts of unknown ones.
 */
export async function registerSearchAttributes(env: TestWorkflowEnvironment): Promise<void> {
  await env.connection.operatorService.addSearchAttributes({
    namespace: 'default',
    searchAttributes: Object.fromEntries(
      Object.entries(ciuSearchAttributes).map(([name, type]) => [name, indexedType[type]]),
    ),
  });
}
