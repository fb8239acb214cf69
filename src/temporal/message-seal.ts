/**
 * The workers' message codec: seals what workflows mark with `sealRequest` (src/domain/seal.ts) and
 * turns seals that arrive into verdicts. The MAC (HMAC-SHA256 with a key from `CIU_MESSAGE_KEYS`,
 * which only workers hold) covers the message's other payloads, its kind, its sender (and the sender's
 * first run ID and sequence number, when it gives them) and the workflow it is sent to, so a seal
 * cannot be moved to another message, campaign, controller or run, nor renumbered. Runs before
 * encryption on the way out and after decryption on the way in.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import {
  METADATA_ENCODING_KEY,
  ValueError,
  type Payload,
  type PayloadCodec,
  type SerializationContext,
} from '@temporalio/common';
import type { SealContext, SealVerdict } from '../domain/seal';
import type { KeyRing } from './keys';

const binaryEncoding = 'binary/plain';
/** A seal's encoding in history (inside the encryption, when payloads are encrypted). */
export const sealEncoding = 'ciu/seal';

interface Seal extends SealContext {
  to: string;
  keyId: string;
  mac: string;
}

function encodingOf(payload: Payload): string | undefined {
  const bytes = payload.metadata?.[METADATA_ENCODING_KEY];
  return bytes ? Buffer.from(bytes).toString('utf8') : undefined;
}

function binary(value: unknown): Payload {
  return {
    metadata: { [METADATA_ENCODING_KEY]: Buffer.from(binaryEncoding) },
    data: Buffer.from(JSON.stringify(value)),
  };
}

function verdictPayload(verdict: SealVerdict): Payload {
  return binary({ ciuVerdict: verdict });
}

/** Digest of a payload: its data and its metadata in key order. */
function digest(payload: Payload): string {
  const hash = createHash('sha256');
  for (const key of Object.keys(payload.metadata ?? {}).sort())
    hash
      .update(`${key}\0`)
      .update(Buffer.from(payload.metadata?.[key] ?? []))
      .update('\0');
  return hash.update(Buffer.from(payload.data ?? [])).digest('hex');
}

function mac(key: Buffer, seal: Omit<Seal, 'mac'>, others: Payload[]): Buffer {
  // v1 seals (no run, no sequence) are in histories that still replay.
  const bound =
    seal.run === undefined && seal.seq === undefined
      ? ['ciu-seal-v1']
      : ['ciu-seal-v2', seal.run ?? null, seal.seq ?? null];
  const covered = JSON.stringify([...bound, seal.keyId, seal.kind, seal.from, seal.to, others.map(digest)]);
  return createHmac('sha256', key).update(covered).digest();
}

function parseJson(bytes: Uint8Array | null | undefined): unknown {
  try {
    return JSON.parse(Buffer.from(bytes ?? []).toString('utf8'));
  } catch {
    return undefined;
  }
}

const optionalRun = (run: unknown): run is string | undefined => run === undefined || typeof run === 'string';
const optionalSeq = (seq: unknown): seq is number | undefined =>
  seq === undefined || (Number.isSafeInteger(seq) && (seq as number) >= 0);

/** Seals with `ring.current`; verifies with any ring key. */
export class MessageSealCodec implements PayloadCodec {
  constructor(private readonly ring: KeyRing) {}

  async encode(payloads: Payload[], context?: SerializationContext): Promise<Payload[]> {
    return payloads.map((payload, index) => {
      if (encodingOf(payload) !== binaryEncoding) return payload;
      const request = (parseJson(payload.data) as { ciuSealRequest?: SealContext } | undefined)
        ?.ciuSealRequest;
      if (
        typeof request?.kind !== 'string' ||
        typeof request.from !== 'string' ||
        !optionalRun(request.run) ||
        !optionalSeq(request.seq)
      )
        throw new ValueError('a workflow sent binary data that is not a seal request');
      const unsigned = {
        kind: request.kind,
        from: request.from,
        ...(request.run === undefined ? {} : { run: request.run }),
        ...(request.seq === undefined ? {} : { seq: request.seq }),
        to: context?.workflowId ?? '',
        keyId: this.ring.current,
      };
      const others = payloads.filter((_, i) => i !== index);
      const seal: Seal = {
        ...unsigned,
        mac: mac(this.ring.keys.get(this.ring.current) as Buffer, unsigned, others).toString('base64'),
      };
      return {
        metadata: { [METADATA_ENCODING_KEY]: Buffer.from(sealEncoding) },
        data: Buffer.from(JSON.stringify(seal)),
      };
    });
  }

  async decode(payloads: Payload[], context?: SerializationContext): Promise<Payload[]> {
    return payloads.map((payload, index) => {
      const encoding = encodingOf(payload);
      // Binary data reaches a workflow only as a verdict this codec wrote: a sender's own is refused.
      if (encoding === binaryEncoding) return verdictPayload({ authentic: false, reason: 'unsealed binary' });
      if (encoding !== sealEncoding) return payload;
      return verdictPayload(
        this.verify(
          parseJson(payload.data) as Partial<Seal> | undefined,
          payloads.filter((_, i) => i !== index),
          context,
        ),
      );
    });
  }

  private verify(
    seal: Partial<Seal> | undefined,
    others: Payload[],
    context?: SerializationContext,
  ): SealVerdict {
    const { kind, from, run, seq, to, keyId, mac: sent } = seal ?? {};
    if (
      typeof kind !== 'string' ||
      typeof from !== 'string' ||
      !optionalRun(run) ||
      !optionalSeq(seq) ||
      typeof to !== 'string' ||
      typeof keyId !== 'string' ||
      typeof sent !== 'string'
    )
      return { authentic: false, reason: 'malformed seal' };
    const key = this.ring.keys.get(keyId);
    if (!key) return { authentic: false, reason: `sealed with unknown key ${keyId.slice(0, 64)}` };
    if (to !== (context?.workflowId ?? ''))
      return { authentic: false, reason: 'sealed for another workflow' };
    const expected = mac(key, { kind, from, run, seq, to, keyId }, others);
    const given = Buffer.from(sent, 'base64');
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      return { authentic: false, reason: 'bad MAC' };
    return {
      authentic: true,
      kind,
      from,
      ...(run === undefined ? {} : { run }),
      ...(seq === undefined ? {} : { seq }),
    };
  }
}
