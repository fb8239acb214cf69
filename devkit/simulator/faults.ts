import type { ControllerModel } from '../../src/domain/models';

/**
 * Fault switches of one simulated controller. Counters count down as they fire ("refuse the next 5
 * downloads"); flags hold until changed. All default to off.
 */
export interface ControllerFaults {
  /** The next N `copy` commands fail before contacting the image server. */
  refuseDownloads?: number;
  /** The next N downloads stop mid-transfer and print nothing more until aborted (Ctrl-C / disconnect). */
  stallDownloads?: number;
  /** The next N downloads have one payload byte flipped in transit, so the SHA-256 check fails. */
  corruptDownloads?: number;
  /** The controller really is this model (the inventory is wrong): images for the listed model are refused. */
  wrongModel?: ControllerModel;
  /** Flash has no room: every `copy` fails with "not enough space on flash". */
  flashFull?: boolean;
  /** SSH does not listen at all. */
  unreachable?: boolean;
  /** The port accepts TCP connections but never says a word (no SSH banner): a hung device or a black-holing firewall. */
  blackhole?: boolean;
  /** After `reload` the controller never answers SSH again. */
  neverComeBack?: boolean;
  /** After `reload` it boots the partition it ran before, whatever `boot system partition` said. */
  bootOldVersion?: boolean;
  /** Once it runs another image than it started with, its own `show switches` row says `UPDATE FAILED`. */
  unhealthyAfterUpgrade?: boolean;
  /** After `reload` it keeps answering SSH this long before going down, as slow real devices do. Default 50 ms. */
  slowShutdownMs?: number;
}
