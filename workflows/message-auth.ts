/**
 * Which internal messages a workflow trusts (issue 12.2). The worker's message codec turns the seal
 * a message carries into a verdict; these checks read it. Histories from before the check replay as
 * they ran: the check applies only where `patched(authenticatedMessagesPatch)` holds.
 */
import { log, patched, workflowInfo } from '@temporalio/workflow';
import { boundText } from '../src/domain/bounded';
import { sealProblem, sealRequest, sealedBy } from '../src/domain/seal';

/** patched() ID: runs started before it accepted internal messages nobody sealed. */
export const authenticatedMessagesPatch = 'authenticated-internal-messages';

/**
 * The seal a message sent by this workflow carries as its last argument: its workflow ID, its first
 * run (which run of that ID sent it) and, for reports, their sequence number.
 */
export function sealFromHere(kind: string, seq?: number): Uint8Array {
  const { workflowId, firstExecutionRunId } = workflowInfo();
  return sealRequest({
    kind,
    from: workflowId,
    run: firstExecutionRunId,
    ...(seq === undefined ? {} : { seq }),
  });
}

/** The seal of this run's continue-as-new state: only the run it continues into accepts it. */
export function sealCarried(): Uint8Array {
  return sealRequest({ kind: 'carried', from: workflowInfo().runId });
}

/** Whether `seal` proves this run's carried state was written by the run it continued from. */
export function carriedIsOurs(seal: unknown): boolean {
  if (!patched(authenticatedMessagesPatch)) return true;
  const from = workflowInfo().continuedFromExecutionRunId;
  return from !== undefined && sealedBy(seal, 'carried', from);
}

/** Messages a workflow received and ignored because no worker sealed them; the newest 20. */
export class ForgedMessages {
  constructor(private entries: string[] = []) {}

  /** Whether a `kind` message claimed to come from `from` may be acted on; records it if not. */
  accept(seal: unknown, kind: string, from: string, context: Record<string, unknown>): boolean {
    if (sealedBy(seal, kind, from) || !patched(authenticatedMessagesPatch)) return true;
    this.record(kind, from, sealProblem(seal), context);
    return false;
  }

  /** Records a `kind` message claimed to come from `from` that is ignored because of `problem`. */
  record(kind: string, from: string, problem: string, context: Record<string, unknown>): void {
    log.warn('ignored an internal message no worker sealed', { ...context, kind, from, problem });
    this.entries = [...this.entries, boundText(`${kind} claiming ${from}: ${problem}`, 200)].slice(-20);
  }

  get list(): string[] {
    return this.entries;
  }
}
