import { dirname } from 'node:path';
import * as proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';

type History = proto.temporal.api.history.v1.History;

// historyFromJSON from @temporalio/common fails here ("type must be a Type"): npm installed two
// copies of protobufjs (one under @temporalio/common, one under @temporalio/proto). Parsing with the
// copy that built the proto types avoids the mismatch; its path is only known at run time.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const protojson = require(
  require.resolve('protobufjs/ext/protojson', { paths: [dirname(require.resolve('@temporalio/proto'))] }),
) as { fromJson(type: unknown, json: unknown, options?: { ignoreUnknownFields?: boolean }): History | null };

const historyType = (patchProtobufRoot(proto) as unknown as { lookupType(name: string): unknown }).lookupType(
  'temporal.api.history.v1.History',
);

/** A History from the canonical proto JSON that `temporal workflow show --output json` writes. */
export function historyFromCliJson(json: unknown): History {
  const history = protojson.fromJson(historyType, json, { ignoreUnknownFields: true });
  if (!history) throw new TypeError('not a workflow history');
  return history;
}
