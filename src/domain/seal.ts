/**
 * Authenticated internal messages, the workflow's side. Workflow code cannot hold a key, so a
 * workflow adds `sealRequest(…)` as the last argument of a message; the worker's message codec
 * (src/temporal/message-seal.ts) replaces it with an HMAC over the message, its kind, sender and
 * target. On the receiving worker the codec turns that seal — or whatever else arrived in its place —
 * into a verdict, and the workflow reads only the verdict (`sealedBy`). Bytes are the carrier:
 * JSON cannot produce them, and the codec rewrites every binary payload that reaches a workflow.
 */

/** What a message claims about itself: its kind (the signal name, or 'carried') and its sender. */
export interface SealContext {
  kind: string;
  /** The sending workflow's ID (or, for 'carried', the run it continued from). */
  from: string;
  /** The sender's first run ID (kept across its continue-as-new): which child of that ID sent it. */
  run?: string;
  /** The sender's count of messages of this kind, rising across its continue-as-new: a replay repeats one. */
  seq?: number;
}

/** What the worker's codec found in a message's last argument. */
export interface SealVerdict {
  authentic: boolean;
  kind?: string;
  from?: string;
  run?: string;
  seq?: number;
  /** Why it is not authentic (no seal, a bad MAC, another target, an unknown key). */
  reason?: string;
}

/** The last argument of a message to seal. */
export function sealRequest(context: SealContext): Uint8Array {
  // Copied into this realm's Uint8Array: in a workflow, TextEncoder is the host's, and the payload
  // converter recognises bytes by the sandbox's class.
  return Uint8Array.from(new TextEncoder().encode(JSON.stringify({ ciuSealRequest: context })));
}

/** The verdict the codec left in `arg`; anything else (absent, JSON) is a message nobody sealed. */
export function sealVerdict(arg: unknown): SealVerdict {
  if (!ArrayBuffer.isView(arg)) return { authentic: false, reason: 'no seal' };
  try {
    const text = new TextDecoder().decode(arg as Uint8Array);
    const { ciuVerdict } = JSON.parse(text) as { ciuVerdict?: SealVerdict };
    if (typeof ciuVerdict === 'object' && ciuVerdict !== null) return ciuVerdict;
  } catch {
    // Not a verdict the codec wrote.
  }
  return { authentic: false, reason: 'no seal' };
}

/** Whether `arg` is an authentic seal of a `kind` message from `from`. */
export function sealedBy(arg: unknown, kind: string, from: string): boolean {
  const verdict = sealVerdict(arg);
  return verdict.authentic && verdict.kind === kind && verdict.from === from;
}

/** Why a message that `sealedBy` refused is not trusted (for the record of forged ones). */
export function sealProblem(arg: unknown): string {
  const verdict = sealVerdict(arg);
  if (!verdict.authentic) return verdict.reason ?? 'not authentic';
  return `sealed as ${String(verdict.kind)} from ${String(verdict.from)}`;
}
