import { defaultPayloadConverter, type Payload, type SerializationContext } from '@temporalio/common';
import { sealRequest, sealVerdict, sealedBy } from '../../src/domain/seal';
import { generateKeyRing } from '../../src/temporal/keys';
import { MessageSealCodec } from '../../src/temporal/message-seal';

const toMaster: SerializationContext = { type: 'workflow', namespace: 'default', workflowId: 'spring' };
const report = { ip: '10.1.4.1', state: 'upgraded', attempts: 1 };

async function send(codec: MessageSealCodec, message: unknown, to = toMaster): Promise<Payload[]> {
  const payloads = [
    defaultPayloadConverter.toPayload(message),
    defaultPayloadConverter.toPayload(sealRequest({ kind: 'controllerUpdate', from: 'spring/10.1.4.1' })),
  ];
  return codec.encode(payloads, to);
}

async function receive(codec: MessageSealCodec, payloads: Payload[], at = toMaster): Promise<unknown> {
  const [, seal] = await codec.decode(payloads, at);
  return defaultPayloadConverter.fromPayload(seal as Payload);
}

test('a message sealed by a worker is authentic where it was sent to, with its kind and sender', async () => {
  const codec = new MessageSealCodec(generateKeyRing());
  const seal = await receive(codec, await send(codec, report));
  expect(sealVerdict(seal)).toEqual({ authentic: true, kind: 'controllerUpdate', from: 'spring/10.1.4.1' });
  expect(sealedBy(seal, 'controllerUpdate', 'spring/10.1.4.1')).toBe(true);
  expect(sealedBy(seal, 'controllerUpdate', 'spring/10.1.4.2')).toBe(false);
});

test('a changed message, another target, another key or no seal is not authentic', async () => {
  const codec = new MessageSealCodec(generateKeyRing());
  const sent = await send(codec, report);
  const changed = [defaultPayloadConverter.toPayload({ ...report, attempts: 2 }), sent[1] as Payload];
  expect(sealVerdict(await receive(codec, changed))).toMatchObject({ authentic: false, reason: 'bad MAC' });
  const elsewhere: SerializationContext = { ...toMaster, workflowId: 'autumn' };
  expect(sealVerdict(await receive(codec, sent, elsewhere))).toMatchObject({
    reason: 'sealed for another workflow',
  });
  const stranger = new MessageSealCodec(generateKeyRing('k1'));
  expect(
    sealVerdict(await receive(stranger, await send(new MessageSealCodec(generateKeyRing('k1')), report))),
  ).toMatchObject({ authentic: false, reason: 'bad MAC' });
  const unsealed = [defaultPayloadConverter.toPayload(report)];
  const [decoded] = await codec.decode(unsealed, toMaster);
  expect(sealVerdict(defaultPayloadConverter.fromPayload(decoded as Payload))).toMatchObject({
    authentic: false,
  });
});

test('bytes a sender passes off as a verdict are replaced by a refusal', async () => {
  const codec = new MessageSealCodec(generateKeyRing());
  const fake = new TextEncoder().encode(
    JSON.stringify({ ciuVerdict: { authentic: true, kind: 'controllerUpdate', from: 'spring/10.1.4.1' } }),
  );
  const seal = await receive(codec, [
    defaultPayloadConverter.toPayload(report),
    defaultPayloadConverter.toPayload(fake),
  ]);
  expect(sealVerdict(seal)).toEqual({ authentic: false, reason: 'unsealed binary' });
});

test('rotation: a seal made with a key the ring still holds verifies after a new key became current', async () => {
  const old = generateKeyRing('old');
  const sent = await send(new MessageSealCodec(old), report);
  const rotated = { current: 'new', keys: new Map([...old.keys, ...generateKeyRing('new').keys]) };
  expect(sealVerdict(await receive(new MessageSealCodec(rotated), sent))).toMatchObject({ authentic: true });
});

test("a seal carries the sender's run and sequence number; changing either breaks its MAC", async () => {
  const codec = new MessageSealCodec(generateKeyRing());
  const request = sealRequest({ kind: 'controllerUpdate', from: 'spring/10.1.4.1', run: 'run-a', seq: 7 });
  const sent = await codec.encode(
    [defaultPayloadConverter.toPayload(report), defaultPayloadConverter.toPayload(request)],
    toMaster,
  );
  expect(sealVerdict(await receive(codec, sent))).toEqual({
    authentic: true,
    kind: 'controllerUpdate',
    from: 'spring/10.1.4.1',
    run: 'run-a',
    seq: 7,
  });
  const wire = JSON.parse(Buffer.from((sent[1] as Payload).data ?? []).toString('utf8')) as object;
  for (const change of [{ seq: 8 }, { run: 'run-b' }, { seq: undefined, run: undefined }]) {
    const altered = { ...(sent[1] as Payload), data: Buffer.from(JSON.stringify({ ...wire, ...change })) };
    expect(sealVerdict(await receive(codec, [sent[0] as Payload, altered]))).toMatchObject({
      authentic: false,
      reason: 'bad MAC',
    });
  }
});
