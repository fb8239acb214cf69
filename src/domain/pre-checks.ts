/**
 * The pre-checks a controller must pass before any download, as one pure function the workflow
 * calls with what the controller said (`show version`, `show image version`, `show storage`). Each
 * failed check is permanent: trying again cannot make the flash larger or the model different.
 */
import { failureTypes } from './errors';

/** One failed pre-check: which check, its failure type, and the operator's sentence. */
export interface PreCheckProblem {
  check: 'model' | 'partition' | 'flash';
  type: typeof failureTypes.preCheckFailed | typeof failureTypes.flashFull;
  message: string;
}

/** What the pre-checks look at. */
export interface PreCheckSubject {
  /** The inventory's model for the controller. */
  inventoryModel: string;
  /** The model the controller reports (`show version`). */
  reportedModel: string;
  /** The partition the controller booted from. */
  bootPartition: 0 | 1;
  /** The partition the download would write. */
  partition: 0 | 1;
  /** Free bytes on the file system `copy` stages images on. */
  freeBytes: number;
  /** The verified image's size (its payload; the header's few hundred bytes are within any margin). */
  imageBytes: number;
}

/** "35.0 MiB" for a byte count, as an operator compares it with `show storage`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** Every failed pre-check, in the order an operator would fix them; empty when the download may start. */
export function preCheckProblems(subject: PreCheckSubject): PreCheckProblem[] {
  const problems: PreCheckProblem[] = [];
  if (subject.reportedModel !== subject.inventoryModel)
    problems.push({
      check: 'model',
      type: failureTypes.preCheckFailed,
      message: `the controller reports model ${subject.reportedModel}, the inventory says ${subject.inventoryModel}`,
    });
  if (subject.partition === subject.bootPartition)
    problems.push({
      check: 'partition',
      type: failureTypes.preCheckFailed,
      message: `partition ${subject.partition} is the one the controller booted from; it is never overwritten`,
    });
  const needed = subject.imageBytes;
  if (subject.freeBytes < needed)
    problems.push({
      check: 'flash',
      type: failureTypes.flashFull,
      message: `${formatBytes(subject.freeBytes)} free on flash, the image needs ${formatBytes(needed)}`,
    });
  return problems;
}

/** The failure a controller ends with when pre-checks fail: FlashFull when flash is the only problem. */
export function preCheckFailure(problems: readonly PreCheckProblem[]): { type: string; message: string } {
  const type = problems.every((p) => p.type === failureTypes.flashFull)
    ? failureTypes.flashFull
    : failureTypes.preCheckFailed;
  return { type, message: `pre-check failed: ${problems.map((p) => p.message).join('; ')}` };
}
