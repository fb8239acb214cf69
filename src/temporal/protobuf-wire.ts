/**
 * Protocol Buffers' wire format, only as far as src/temporal/frontend-reader.ts needs it: messages
 * of strings, bytes, non-negative varints and nested messages. Field numbers come from Temporal's
 * protos (test/unit/frontend-reader.test.ts checks them against @temporalio/proto's own codecs).
 */

/** One field to encode: its number and value (string, bytes, varint, nested message); undefined is left out. */
export type WireField = readonly [number, string | Uint8Array | number | readonly WireField[] | undefined];

/** A malformed message. */
export class WireFormatError extends Error {
  override readonly name = 'WireFormatError';
}

const varintType = 0;
const fixed64Type = 1;
const lengthType = 2;
const fixed32Type = 5;

function varint(value: number): Buffer {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new WireFormatError(`varint must be a whole number 0 or more, got ${value}`);
  const bytes: number[] = [];
  let rest = value;
  while (rest > 0x7f) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

/** The message made of `fields`, in their order (repeat a number for a repeated field or map entry). */
export function encodeMessage(fields: readonly WireField[]): Buffer {
  const parts: Buffer[] = [];
  for (const [number, value] of fields) {
    if (value === undefined) continue;
    if (typeof value === 'number') {
      parts.push(varint(number * 8 + varintType), varint(value));
      continue;
    }
    const bytes =
      typeof value === 'string'
        ? Buffer.from(value, 'utf8')
        : value instanceof Uint8Array
          ? value
          : encodeMessage(value as readonly WireField[]);
    parts.push(varint(number * 8 + lengthType), varint(bytes.length), Buffer.from(bytes));
  }
  return Buffer.concat(parts);
}

/** The fields of a message by number, values in wire order: varints as numbers, length-delimited as bytes. */
export type DecodedFields = Map<number, Array<number | Buffer>>;

/** Reads every field of `message`; fixed-width fields (none of ours) are skipped. */
export function decodeMessage(message: Uint8Array): DecodedFields {
  const bytes = Buffer.from(message.buffer, message.byteOffset, message.byteLength);
  const fields: DecodedFields = new Map();
  let at = 0;
  const readVarint = (): number => {
    let value = 0;
    for (let scale = 1; ; scale *= 0x80) {
      if (at >= bytes.length) throw new WireFormatError('message ends inside a varint');
      const byte = bytes[at++] as number;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      if (scale >= 2 ** 63) throw new WireFormatError('varint longer than 10 bytes');
    }
  };
  const skip = (n: number) => {
    if (at + n > bytes.length) throw new WireFormatError('message ends inside a field');
    at += n;
  };
  while (at < bytes.length) {
    const key = readVarint();
    const number = Math.floor(key / 8);
    const type = key % 8;
    let value: number | Buffer | undefined;
    if (type === varintType) value = readVarint();
    else if (type === lengthType) {
      const length = readVarint();
      const start = at;
      skip(length);
      value = bytes.subarray(start, at);
    } else if (type === fixed64Type) skip(8);
    else if (type === fixed32Type) skip(4);
    else
      throw new WireFormatError(`field ${number} has wire type ${type}, which Temporal's protos do not use`);
    if (value === undefined) continue;
    const values = fields.get(number);
    if (values) values.push(value);
    else fields.set(number, [value]);
  }
  return fields;
}

/** Every length-delimited value of field `number` (repeated messages, strings, bytes). */
export function bytesFields(fields: DecodedFields, number: number): Buffer[] {
  return (fields.get(number) ?? []).filter((v): v is Buffer => Buffer.isBuffer(v));
}

/** The last length-delimited value of field `number` (protobuf: the last one wins), if any. */
export function bytesField(fields: DecodedFields, number: number): Buffer | undefined {
  return bytesFields(fields, number).at(-1);
}

/** The last varint of field `number`, if any. */
export function varintField(fields: DecodedFields, number: number): number | undefined {
  return (fields.get(number) ?? []).filter((v): v is number => typeof v === 'number').at(-1);
}
