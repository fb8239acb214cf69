/**
 * The contract between workflows and activities. Workflows `import type` this file only; the
 * implementations live beside it and are built by createActivities(deps) in activities/index.ts.
 *
 * Failures: activities throw ApplicationFailure with a `type` from src/domain/errors.ts
 * (failureTypes). Permanent ones are nonRetryable. Activity retry policies are the workflow's
 * choice; downloadImage runs once per call, because the workflow itself counts the quick tries.
 */
import type { Controller, ImageServer, Protocol } from '../src/domain/types';

/** Where one image is, as the profile names it. Credentials travel as a reference only. */
export interface ImageSource {
  imageFile: string;
  server: ImageServer;
  protocol: Protocol;
  credentialsRef?: string;
}

/** What verifyImage checks an image against. */
export interface VerifyImageInput {
  source: ImageSource;
  /** Every controller model that will receive this image; its type must fit each. */
  models: string[];
  expectedVersion?: string;
  expectedBuild?: number;
}

/** The header facts of a verified image. */
export interface VerifiedImage {
  imageType: string;
  version: string;
  build: number;
  payloadLength: number;
  /** Hex SHA-256 of the payload. */
  payloadSha256: string;
  /** Bytes the header read transferred from the server (proof that only the header was read). */
  bytesRead: number;
}

/** What the controller reports about itself (`show version`, `show image version`). */
export interface ControllerFacts {
  model: string;
  runningVersion: string;
  runningBuild: number;
  /** Partition the controller booted from. */
  bootPartition: 0 | 1;
  partitions: Array<{ partition: 0 | 1; version?: string; build?: number; imageType?: string }>;
}

export interface DownloadImageInput {
  controller: Controller;
  source: ImageSource;
  partition: 0 | 1;
  /** For the controller's log and the master's log lines. */
  campaign: string;
  /** Total attempt number (1-based), for logs. */
  attempt: number;
}

export interface DownloadImageResult {
  bytes: number;
}

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
}

/** Every activity the workflows call. Heartbeats: downloadImage ({ bytes, totalBytes }), rebootController. */
export interface UpgradeActivities {
  /** Reads only the image header from its server and checks it; returns the header facts. */
  verifyImage(input: VerifyImageInput): Promise<VerifiedImage>;
  /** Asks the controller what it runs and what each partition holds. */
  inspectController(controller: Controller): Promise<ControllerFacts>;
  /** Tells the controller to copy the image from its server into a partition; cancellable mid-transfer. */
  downloadImage(input: DownloadImageInput): Promise<DownloadImageResult>;
  /** Checks the image now on the controller's partition (type, version, build, SHA-256). */
  verifyImageOnController(input: VerifyOnControllerInput): Promise<void>;
  /** Writes one line into the controller's own log. */
  logOnController(input: ControllerLogInput): Promise<void>;
  /** Sets the boot partition, reloads, and waits until the controller answers SSH again. */
  rebootController(input: RebootInput): Promise<void>;
}
