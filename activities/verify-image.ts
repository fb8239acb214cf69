import { ApplicationFailure } from '@temporalio/activity';
import {
  CredentialPolicyError,
  CredentialStoreError,
  sshTrust,
  UnknownCredentialsError,
  type CredentialStore,
  type StoredCredentials,
} from '../src/credentials/store';
import { boundIssues } from '../src/domain/bounded';
import { validate } from '../src/domain/config';
import { failureTypes } from '../src/domain/errors';
import { imageTypeFor } from '../src/domain/models';
import { verifyImageInputSchema } from '../src/domain/schemas';
import {
  HEADER_SIZE,
  ImageFormatError,
  checkImageSignature,
  parseImageHeader,
  type ImageHeader,
  type TrustedImageKeys,
} from '../src/image';
import type { Logger } from '../src/logging';
import { portOf, readHeader, TransferError, type TransferEndpoint } from '../src/transfer';
import { activityContext } from './context';
import type { UpgradeActivities, VerifiedImage, VerifyImageInput } from './types';

/** What verifyImage needs from the worker. */
export interface ImageActivityDeps {
  credentials: CredentialStore;
  logger: Logger;
  /** known_hosts for scp/sftp servers without a pinned host key. Default: env CIU_KNOWN_HOSTS. */
  knownHostsFile?: string;
  /** CA bundle trusted for ftps servers. Default: env CIU_TLS_CA_FILE, else the system CAs. */
  caFile?: string;
  /** Connect/idle timeout for one header read, in ms. Default 15000. */
  timeoutMs?: number;
  /** Public keys of the image signers this worker trusts (env CIU_IMAGE_KEYS). Default none: only profiles with allowUnsigned verify. */
  trustedImageKeys?: TrustedImageKeys;
}

function parseInput(input: unknown): VerifyImageInput {
  const validation = validate(verifyImageInputSchema, input, 'verifyImage');
  if (validation.ok) return validation.value;
  throw ApplicationFailure.nonRetryable(boundIssues(validation.issues), failureTypes.invalidInput);
}

/**
 * Heartbeat period during a header read. The read itself is bounded by its deadline (the endpoint's
 * `deadlineMs`, 60 s), so heartbeats only say the worker is alive: a crashed worker's attempt is
 * noticed by the heartbeat timeout in seconds instead of the start-to-close timeout in minutes.
 */
const heartbeatEveryMs = 2000;

/** Header problems against what the campaign needs; empty when the image fits. */
function headerProblems(header: ImageHeader, input: VerifyImageInput): string[] {
  const problems: string[] = [];
  const unfit = input.models
    .map((model) => ({ model, family: imageTypeFor(model) }))
    .filter(({ family }) => family !== header.imageType);
  if (unfit.length > 0)
    problems.push(
      `is type ${header.imageType}, not for ${unfit
        .map(({ model, family }) => `model ${model} (${family ?? 'unknown model'})`)
        .join(' or ')}`,
    );
  if (input.expectedVersion !== undefined && header.version !== input.expectedVersion)
    problems.push(`is version ${header.version}, the profile expects ${input.expectedVersion}`);
  if (input.expectedBuild !== undefined && header.build !== input.expectedBuild)
    problems.push(`is build ${header.build}, the profile expects ${input.expectedBuild}`);
  return problems;
}

/**
 * Why the header's signature does not let the image through, or undefined when it does: a signature
 * of a trusted key, or (with allowUnsigned) no signature or one of an unknown key. A trusted key's
 * signature that does not match is refused whatever the profile says: the header was changed.
 */
function signatureProblem(
  header: Buffer,
  trusted: TrustedImageKeys,
  allowUnsigned: boolean,
): { problem?: string; signedBy?: string } {
  const check = checkImageSignature(header, trusted);
  switch (check.status) {
    case 'trusted':
      return { signedBy: check.keyId };
    case 'invalid':
      return {
        problem: `has a signature of key ${check.keyId} that does not match its header: the header was changed after signing`,
      };
    case 'unsigned':
      return allowUnsigned
        ? {}
        : { problem: 'is not signed, and the upgrade-profile does not allow unsigned images' };
    case 'untrusted':
      return allowUnsigned
        ? {}
        : {
            problem: `is signed by key ${check.keyId}, which this worker does not trust (CIU_IMAGE_KEYS)`,
          };
  }
}

/** A credential the worker's store refuses for this use, as a permanent failure that names no secret. */
function credentialFailure(err: unknown, what: string): ApplicationFailure {
  if (err instanceof UnknownCredentialsError)
    return ApplicationFailure.nonRetryable(`${what}: ${err.message}`, failureTypes.unknownCredentials);
  if (err instanceof CredentialPolicyError || err instanceof CredentialStoreError)
    return ApplicationFailure.nonRetryable(`${what}: ${err.message}`, failureTypes.credentialsNotAllowed);
  throw err;
}

/** Turns a transfer failure into the ApplicationFailure the workflow branches on. */
function transferFailure(
  err: TransferError,
  image: string,
  server: string,
  ref: string | undefined,
): ApplicationFailure {
  switch (err.code) {
    case 'not-found':
      return ApplicationFailure.nonRetryable(
        `image ${image} not found on ${server}: ${err.message}`,
        failureTypes.imageVerificationFailed,
      );
    case 'unreachable':
    case 'timeout':
      return ApplicationFailure.retryable(
        `image server ${server} unreachable: ${err.message}`,
        failureTypes.imageServerUnreachable,
      );
    case 'auth':
      return ApplicationFailure.nonRetryable(
        `image server ${server} refused the login of credentials "${ref ?? '(none)'}": ${err.message}`,
        failureTypes.authenticationFailed,
      );
    case 'host-key':
      return ApplicationFailure.nonRetryable(
        `image server ${server}: ${err.message}`,
        failureTypes.hostKeyMismatch,
      );
    default:
      return ApplicationFailure.nonRetryable(
        `image ${image} on ${server} could not be read: ${err.message}`,
        failureTypes.imageVerificationFailed,
      );
  }
}

/** The master's image check: reads only the header from the image server and checks it against the models. */
export function createImageActivities(deps: ImageActivityDeps): Pick<UpgradeActivities, 'verifyImage'> {
  return {
    async verifyImage(rawInput): Promise<VerifiedImage> {
      const input = parseInput(rawInput);
      const { source } = input;
      const image = source.imageFile;
      const partial: TransferEndpoint = {
        protocol: source.protocol,
        host: source.server.host,
        port: source.server.port,
      };
      const server = `${source.server.host}:${portOf(partial)}`;
      const log = deps.logger.child({
        activity: 'verifyImage',
        image,
        server,
        protocol: source.protocol,
        models: input.models,
      });

      let credentials: StoredCredentials | undefined;
      let trust = {};
      if (source.credentialsRef) {
        try {
          credentials = deps.credentials.resolve(source.credentialsRef, {
            purpose: 'image-server',
            host: source.server.host,
            port: portOf(partial),
            protocol: source.protocol,
          });
          if (source.protocol === 'scp' || source.protocol === 'sftp')
            trust = sshTrust(
              source.credentialsRef,
              credentials.allow,
              source.server.hostKey,
              deps.knownHostsFile,
            );
        } catch (err) {
          const failure = credentialFailure(err, `image ${image} on ${server}`);
          log.error({ credentialsRef: source.credentialsRef, failureType: failure.type }, failure.message);
          throw failure;
        }
      }
      const endpoint: TransferEndpoint = {
        ...partial,
        ...(credentials
          ? { credentials, ...trust }
          : {
              ...(source.server.hostKey ? { hostKey: source.server.hostKey } : {}),
              ...(deps.knownHostsFile ? { knownHostsFile: deps.knownHostsFile } : {}),
            }),
        ...(deps.caFile ? { caFile: deps.caFile } : {}),
        ...(deps.timeoutMs ? { timeoutMs: deps.timeoutMs } : {}),
      };

      const context = activityContext();
      context?.heartbeat();
      const keepAlive = context ? setInterval(() => context.heartbeat(), heartbeatEveryMs) : undefined;
      let read;
      try {
        read = await readHeader(endpoint, image, HEADER_SIZE, { signal: context?.cancellationSignal });
      } catch (err) {
        if (!(err instanceof TransferError) || err.code === 'aborted') throw err;
        const failure = transferFailure(err, image, server, source.credentialsRef);
        log.warn(
          { failureType: failure.type, code: err.code, reason: err.message },
          'image header read failed',
        );
        throw failure;
      } finally {
        clearInterval(keepAlive);
      }

      let header: ImageHeader;
      try {
        header = parseImageHeader(read.bytes);
      } catch (err) {
        if (!(err instanceof ImageFormatError)) throw err;
        log.warn(
          { failureType: failureTypes.imageVerificationFailed, code: err.code, reason: err.message },
          'image header invalid',
        );
        throw ApplicationFailure.nonRetryable(
          `image ${image} on ${server}: ${err.message}`,
          failureTypes.imageVerificationFailed,
        );
      }

      const signature = signatureProblem(
        read.bytes,
        deps.trustedImageKeys ?? new Map(),
        input.allowUnsigned === true,
      );
      if (signature.problem) {
        const message = `image ${image} on ${server} ${signature.problem}`;
        log.warn({ failureType: failureTypes.imageNotTrusted, signedBy: header.signedBy }, message);
        throw ApplicationFailure.nonRetryable(message, failureTypes.imageNotTrusted);
      }

      const problems = headerProblems(header, input);
      if (problems.length > 0) {
        const message = `image ${image} on ${server} ${problems.join('; ')}`;
        log.warn(
          {
            failureType: failureTypes.imageVerificationFailed,
            imageType: header.imageType,
            version: header.version,
            build: header.build,
          },
          message,
        );
        throw ApplicationFailure.nonRetryable(message, failureTypes.imageVerificationFailed);
      }

      const verified: VerifiedImage = {
        imageType: header.imageType,
        version: header.version,
        build: header.build,
        payloadLength: header.payloadLength,
        payloadSha256: header.payloadSha256,
        bytesRead: read.bytesTransferred,
        ...(signature.signedBy ? { signedBy: signature.signedBy } : {}),
      };
      log.info(
        {
          imageType: header.imageType,
          version: header.version,
          build: header.build,
          bytesRead: read.bytesTransferred,
          signedBy: signature.signedBy ?? 'nobody (allowUnsigned)',
        },
        'image verified',
      );
      return verified;
    },
  };
}
