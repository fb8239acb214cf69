import {
  decodePacket,
  encodeAck,
  encodeData,
  encodeError,
  encodeOack,
  encodeRrq,
} from '../../src/transfer/tftp-packets';

test('a read request carries file, octet mode and options, NUL-terminated (RFC 1350, 2347)', () => {
  const rrq = encodeRrq('ArubaOS_72xx_6.4.0.0_81234', { blksize: '1468', tsize: '0' });
  expect(rrq.toString('latin1')).toBe(
    '\x00\x01ArubaOS_72xx_6.4.0.0_81234\x00octet\x00blksize\x001468\x00tsize\x000\x00',
  );
  expect(decodePacket(rrq)).toEqual({
    op: 'rrq',
    file: 'ArubaOS_72xx_6.4.0.0_81234',
    mode: 'octet',
    options: { blksize: '1468', tsize: '0' },
  });
});

test('DATA, ACK, ERROR and OACK round-trip; block numbers are 16-bit', () => {
  expect(decodePacket(encodeData(7, Buffer.from('abc')))).toEqual({
    op: 'data',
    block: 7,
    data: Buffer.from('abc'),
  });
  expect(decodePacket(encodeAck(65536 + 3))).toEqual({ op: 'ack', block: 3 });
  expect(decodePacket(encodeError(1, 'File not found'))).toEqual({
    op: 'error',
    code: 1,
    message: 'File not found',
  });
  expect(decodePacket(encodeOack({ BLKSIZE: '512', tsize: '99' }))).toEqual({
    op: 'oack',
    options: { blksize: '512', tsize: '99' },
  });
});

test('malformed datagrams are refused with a reason', () => {
  expect(() => decodePacket(Buffer.from([0]))).toThrow('TFTP packet of 1 bytes is too short');
  expect(() => decodePacket(Buffer.from([0, 3, 0]))).toThrow('TFTP DATA packet too short');
  expect(() => decodePacket(Buffer.from([0, 9, 0, 0]))).toThrow('unknown TFTP opcode 9');
  expect(() => decodePacket(Buffer.from('\x00\x06blksize\x00512', 'latin1'))).toThrow('not NUL-terminated');
  expect(() => decodePacket(Buffer.from('\x00\x06blksize\x00', 'latin1'))).toThrow('not name/value pairs');
});
