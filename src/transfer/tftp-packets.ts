/** TFTP packets (RFC 1350) with option extension (RFC 2347), blksize (RFC 2348) and tsize (RFC 2349). */
export const Opcode = { RRQ: 1, WRQ: 2, DATA: 3, ACK: 4, ERROR: 5, OACK: 6 } as const;

/** TFTP error codes the client sends or acts on. */
export const TftpErrorCode = {
  notDefined: 0,
  fileNotFound: 1,
  accessViolation: 2,
  unknownTid: 5,
  optionRefused: 8,
} as const;

export type TftpPacket =
  | { op: 'data'; block: number; data: Buffer }
  | { op: 'ack'; block: number }
  | { op: 'error'; code: number; message: string }
  | { op: 'oack'; options: Record<string, string> }
  | { op: 'rrq'; file: string; mode: string; options: Record<string, string> };

function strings(buf: Buffer, from: number): string[] {
  const parts = buf.subarray(from).toString('latin1').split('\0');
  // A well-formed list ends in NUL, which leaves one empty string after the last split.
  if (parts.pop() !== '') throw new Error('TFTP packet strings are not NUL-terminated');
  return parts;
}

function pairs(list: string[]): Record<string, string> {
  if (list.length % 2 !== 0) throw new Error('TFTP options are not name/value pairs');
  const options: Record<string, string> = {};
  for (let i = 0; i < list.length; i += 2) options[(list[i] as string).toLowerCase()] = list[i + 1] as string;
  return options;
}

/** Parses one datagram; throws for a malformed one. */
export function decodePacket(buf: Buffer): TftpPacket {
  if (buf.length < 2) throw new Error(`TFTP packet of ${buf.length} bytes is too short`);
  const op = buf.readUInt16BE(0);
  switch (op) {
    case Opcode.DATA:
      if (buf.length < 4) throw new Error('TFTP DATA packet too short');
      return { op: 'data', block: buf.readUInt16BE(2), data: buf.subarray(4) };
    case Opcode.ACK:
      if (buf.length < 4) throw new Error('TFTP ACK packet too short');
      return { op: 'ack', block: buf.readUInt16BE(2) };
    case Opcode.ERROR: {
      if (buf.length < 4) throw new Error('TFTP ERROR packet too short');
      const end = buf.indexOf(0, 4);
      return {
        op: 'error',
        code: buf.readUInt16BE(2),
        message: buf.subarray(4, end === -1 ? buf.length : end).toString('latin1'),
      };
    }
    case Opcode.OACK:
      return { op: 'oack', options: pairs(strings(buf, 2)) };
    case Opcode.RRQ: {
      const [file, mode, ...rest] = strings(buf, 2);
      if (file === undefined || mode === undefined) throw new Error('TFTP RRQ lacks file name or mode');
      return { op: 'rrq', file, mode: mode.toLowerCase(), options: pairs(rest) };
    }
    default:
      throw new Error(`unknown TFTP opcode ${op}`);
  }
}

function withOpcode(op: number, body: Buffer): Buffer {
  const head = Buffer.alloc(2);
  head.writeUInt16BE(op, 0);
  return Buffer.concat([head, body]);
}

function nulStrings(list: string[]): Buffer {
  return Buffer.from(list.map((s) => `${s}\0`).join(''), 'latin1');
}

/** A read request in octet mode with options. */
export function encodeRrq(file: string, options: Record<string, string> = {}): Buffer {
  return withOpcode(Opcode.RRQ, nulStrings([file, 'octet', ...Object.entries(options).flat()]));
}

export function encodeAck(block: number): Buffer {
  const buf = Buffer.alloc(4);
  buf.writeUInt16BE(Opcode.ACK, 0);
  buf.writeUInt16BE(block & 0xffff, 2);
  return buf;
}

export function encodeData(block: number, data: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(Opcode.DATA, 0);
  head.writeUInt16BE(block & 0xffff, 2);
  return Buffer.concat([head, data]);
}

export function encodeError(code: number, message: string): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(Opcode.ERROR, 0);
  head.writeUInt16BE(code, 2);
  return Buffer.concat([head, nulStrings([message])]);
}

export function encodeOack(options: Record<string, string>): Buffer {
  return withOpcode(Opcode.OACK, nulStrings(Object.entries(options).flat()));
}
