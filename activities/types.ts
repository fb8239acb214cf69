/**
 * The contract between workflows and activities. Workflows `import type` this file only; the
 * implementations live beside it and are built by createActivities(deps) in activities/index.ts.
 *
 * Failures: activities throw ApplicationFailure with a `type` from src/domain/errors.ts
 * (failureTypes). Permanent ones are nonRetryable. Activity retry policies are the workflow's
 * choice; downloadImage runs once per call, because the workflow itself counts the quick tries.
 */
import type { ConfigRef } from '../src/domain/config-ref';
import type { Controller } from '../src/domain/types';
import type { ControllerFacts, ImageSource, VerifiedImage, VerifyImageInput } from '../src/domain/schemas';

// Their schemas (src/domain/schemas.ts) define them: verifyImage and controllerUpgrade validate against those.
export type { ControllerFacts, ImageSource, VerifiedImage, VerifyImageInput };

export interface DownloadImageInput {
  controller: Controller;
  source: ImageSource;
  partition: 0 | 1;
  /** For the controller's log and the master's log lines. */
  campaign: string;
  /** Total attempt number (1-based), for logs. */
  attempt: number;
  /**
   * The verified image. When given and the partition already holds exactly it (type, version, build,
   * SHA-256) — a copy that finished before a worker crash — nothing is copied again.
   */
  expected?: VerifiedImage;
}

export interface DownloadImageResult {
  bytes: number;
  /** True when the partition already held the expected image and no copy was started. */
  alreadyThere?: boolean;
}

/** The controller's flash as `show storage` reports it (the file system `copy` stages images on). */
export interface ControllerStorage {
  freeBytes: number;
  sizeBytes: number;
}

/** What lookBeforeDownload reads. */
export interface LookBeforeDownloadInput {
  controller: Controller;
  /** Read `show storage` too (the pre-checks are on). */
  storage: boolean;
  /** The image to install: a controller already running it needs no storage read. */
  target: { version: string; build: number };
}

/** The controller before a download: its facts and, when read, its free flash. */
export interface ControllerLook {
  facts: ControllerFacts;
  /** Absent when not read: not asked, already running the target, or unreadable. */
  storage?: ControllerStorage;
  /** Why `show storage` could not be read (refused or unparsable): the flash is then not checked. */
  storageUnreadable?: { type?: string; message: string };
}

/** A download whose image is then checked on the controller: `expected` is required. */
export type DownloadAndVerifyInput = DownloadImageInput & { expected: VerifiedImage };

export interface VerifyOnControllerInput {
  controller: Controller;
  partition: 0 | 1;
  expected: VerifiedImage;
}

export interface ControllerLogInput {
  controller: Controller;
  level: 'error' | 'warning' | 'info';
  message: string;
}

export interface RebootInput {
  controller: Controller;
  /** Partition to boot. */
  partition: 0 | 1;
  /** How long the controller may stay unreachable after reload. Default 10 minutes. */
  timeoutMs?: number;
  /** The image it should run afterwards: when it already does, no reload is sent. */
  expected?: { version: string; build: number };
  /** Also read the health view in the login that sees the controller back (the post-check). Default false. */
  readHealth?: boolean;
}

/** What rebootController saw in the login that found the controller back (or already rebooted). */
export interface RebootResult {
  runningVersion: string;
  runningBuild: number;
  /** Its health view, when `readHealth` asked and it could be read. */
  health?: ControllerHealth;
  /** Why the health view could not be judged (refused or unparsable); absent when read or not asked. */
  healthUnreadable?: { type?: string; message: string };
}

/** Every activity the workflows call. Heartbeats: downloadImage and downloadAndVerifyImage ({ bytes, totalBytes }), rebootController. */
export interface UpgradeActivities {
  /** Reads a config passed by reference from the worker's config store, checking its length and hash. */
  loadCampaignConfig(ref: ConfigRef): Promise<unknown>;
  /** Reads only the image header from its server and checks it; returns the header facts. */
  verifyImage(input: VerifyImageInput): Promise<VerifiedImage>;
  /** Asks the controller what it runs and what each partition holds. */
  inspectController(controller: Controller): Promise<ControllerFacts>;
  /** Reads the controller's free flash (`show storage`); read-only, for the pre-checks before a download. */
  inspectStorage(controller: Controller): Promise<ControllerStorage>;
  /** Reads the controller's own health view (`show switches`, its own row); read-only, for the post-check after a reboot. */
  inspectHealth(controller: Controller): Promise<ControllerHealth>;
  /** Tells the controller to copy the image from its server into a partition; cancellable mid-transfer. */
  downloadImage(input: DownloadImageInput): Promise<DownloadImageResult>;
  /** Checks the image now on the controller's partition (type, version, build, SHA-256). */
  verifyImageOnController(input: VerifyOnControllerInput): Promise<void>;
  /** inspectController, then inspectStorage unless not asked or already on the target: one activity (activities/combined.ts). */
  lookBeforeDownload(input: LookBeforeDownloadInput): Promise<ControllerLook>;
  /** downloadImage, then verifyImageOnController: one activity, heartbeating { bytes, totalBytes } throughout. */
  downloadAndVerifyImage(input: DownloadAndVerifyInput): Promise<DownloadImageResult>;
  /** Writes one line into the controller's own log. */
  logOnController(input: ControllerLogInput): Promise<void>;
  /**
   * Sets the boot partition, reloads, and waits until the controller answers SSH again; looks first,
   * and resumes a wait recorded in its heartbeat ({ reloadedAt, waitedMs }) instead of reloading twice.
   * Returns what the controller runs once back; nothing from a worker older than that (the workflow
   * then asks with inspectController, as it did before).
   */
  rebootController(input: RebootInput): Promise<RebootResult | void>;
}

/** The controller's health as its own view shows it (src/device/parsers.ts parseSwitchHealth); texts cleaned and bounded. */
export interface ControllerHealth {
  /** Its own row was there; false: nothing could be judged. */
  found: boolean;
  /** Why it is not healthy, e.g. "show switches: Configuration State UPDATE FAILED"; absent when healthy. */
  problem?: string;
  status?: string;
  configState?: string;
}
