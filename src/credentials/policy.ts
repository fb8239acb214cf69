import { z } from 'zod';
import { isHost, isHostKeyFingerprint, isPort, protocols } from '../domain/rules';
import { parseSelector, selectorMatches } from '../domain/targets';

/** What a credential is for: logging in to a controller's CLI, or to an image server. */
export const credentialPurposes = ['controller-login', 'image-server'] as const;
export type CredentialPurpose = (typeof credentialPurposes)[number];

/** Protocols a credential may travel over: the image-server protocols, and `ssh` for controller logins. */
export const credentialProtocols = [...protocols, 'ssh'] as const;
export type CredentialProtocol = (typeof credentialProtocols)[number];

/** Protocols that carry a password in clear; a credential allows them only with `allowPlaintext: true`. */
export const plaintextProtocols: readonly CredentialProtocol[] = ['ftp', 'tftp', 'http'];

const hostPattern = z
  .string('must be a string')
  .refine(
    (text) => isHost(text) || parseSelector(text)?.kind === 'subnet',
    'must be an IPv4 address, a CIDR subnet or a host name',
  );

/** Where the worker lets one credential go, whatever a workflow asks for. */
export const credentialPolicySchema = z
  .object({
    /** The one use of this credential. */
    purpose: z.enum(credentialPurposes, `must be one of ${credentialPurposes.join(', ')}`),
    /** IPv4 addresses, CIDR subnets or host names (matched literally) the secret may be sent to. */
    hosts: z.array(hostPattern, 'must be a list of hosts').min(1, 'must name at least one host'),
    /** Ports the secret may be sent to. Absent: every port of those hosts. */
    ports: z
      .array(z.number().refine(isPort, 'must be a port 1..65535'), 'must be a list of ports')
      .optional(),
    /** Protocols it may travel over; `ssh` for controller logins. */
    protocols: z
      .array(
        z.enum(credentialProtocols, `must be one of ${credentialProtocols.join(', ')}`),
        'must be a list of protocols',
      )
      .min(1, 'must name at least one protocol'),
    /** Lets ftp, tftp and http (which carry the password in clear) appear in `protocols`. Default false. */
    allowPlaintext: z.boolean('must be true or false').optional(),
    /**
     * SSH host keys the worker trusts for these hosts ('SHA256:<base64>'), besides known_hosts. A key
     * pinned in workflow input must also be one of these (or be in known_hosts): input only narrows.
     */
    hostKeys: z
      .array(
        z.string().refine(isHostKeyFingerprint, "must be a host-key fingerprint 'SHA256:<base64>'"),
        'must be a list of fingerprints',
      )
      .optional(),
  })
  .strict()
  .superRefine((policy, ctx) => {
    if (!policy.allowPlaintext)
      policy.protocols.forEach((protocol, i) => {
        if (plaintextProtocols.includes(protocol))
          ctx.addIssue({
            code: 'custom',
            path: ['protocols', i],
            message: `is ${protocol}, which sends the password in clear: set allowPlaintext: true to permit it`,
          });
      });
    const fits = policy.purpose === 'controller-login' ? ['ssh'] : protocols;
    policy.protocols.forEach((protocol, i) => {
      if (!(fits as readonly string[]).includes(protocol))
        ctx.addIssue({
          code: 'custom',
          path: ['protocols', i],
          message: `is ${protocol}, which is not a protocol for ${policy.purpose}`,
        });
    });
  });

export type CredentialPolicy = z.infer<typeof credentialPolicySchema>;

/** One intended use of a credential, as an activity is about to make it. */
export interface CredentialUse {
  purpose: CredentialPurpose;
  host: string;
  port: number;
  protocol: CredentialProtocol;
}

/** A use the credential's policy does not allow. The message names the field and the reference, never a secret. */
export class CredentialPolicyError extends Error {
  override readonly name = 'CredentialPolicyError';
  constructor(
    readonly ref: string,
    /** The policy field that refused: `allow.purpose`, `allow.hosts`, `allow.ports`, `allow.protocols`, `allow.hostKeys`. */
    readonly field: string,
    detail: string,
  ) {
    super(`credentials "${ref}" may not be used here: ${detail} (${field} in the worker's credential store)`);
  }
}

function hostAllowed(patterns: readonly string[], host: string): boolean {
  const lower = host.toLowerCase();
  return patterns.some((pattern) => {
    const selector = parseSelector(pattern);
    if (selector) return parseSelector(host)?.kind === 'host' && selectorMatches(selector, host);
    return pattern.toLowerCase() === lower;
  });
}

/** Throws CredentialPolicyError unless `policy` allows `use`. */
export function checkCredentialUse(ref: string, policy: CredentialPolicy, use: CredentialUse): void {
  if (policy.purpose !== use.purpose)
    throw new CredentialPolicyError(ref, 'allow.purpose', `it is for ${policy.purpose}, not ${use.purpose}`);
  if (!policy.protocols.includes(use.protocol))
    throw new CredentialPolicyError(ref, 'allow.protocols', `protocol ${use.protocol} is not allowed`);
  if (!hostAllowed(policy.hosts, use.host))
    throw new CredentialPolicyError(ref, 'allow.hosts', `host ${use.host} is not allowed`);
  if (policy.ports && !policy.ports.includes(use.port))
    throw new CredentialPolicyError(ref, 'allow.ports', `port ${use.port} of ${use.host} is not allowed`);
}

/** How an SSH connection checks the peer's key, after the worker's trust and the input's pin are combined. */
export interface SshTrust {
  /** The pinned key to require; undefined: known_hosts decides. */
  hostKey?: string;
  /** known_hosts the key must (also) be listed in. */
  knownHostsFile?: string;
}

/**
 * Combines the worker's trust (the credential's `hostKeys`, the worker's known_hosts) with a key
 * pinned in workflow input. The input pin narrows: it must be one of the credential's keys, or be
 * checked against known_hosts too; it never makes an otherwise untrusted key acceptable.
 */
export function sshTrust(
  ref: string,
  policy: CredentialPolicy,
  inputPin: string | undefined,
  knownHostsFile: string | undefined,
): SshTrust {
  const trusted = (policy.hostKeys ?? []).map((k) => k.replace(/=+$/, ''));
  const pin = inputPin?.replace(/=+$/, '');
  if (trusted.length > 0) {
    if (pin !== undefined && !trusted.includes(pin))
      throw new CredentialPolicyError(
        ref,
        'allow.hostKeys',
        `host key ${pin} pinned in the input is not trusted`,
      );
    const only = pin ?? (trusted.length === 1 ? trusted[0] : undefined);
    if (only !== undefined) return { hostKey: only };
    if (!knownHostsFile)
      throw new CredentialPolicyError(
        ref,
        'allow.hostKeys',
        'several host keys are trusted and the input pins none of them',
      );
    return { knownHostsFile };
  }
  if (!knownHostsFile)
    throw new CredentialPolicyError(
      ref,
      'allow.hostKeys',
      'the worker trusts no host key for it (no allow.hostKeys, no known_hosts file); a key pinned in workflow input alone is not trusted',
    );
  return { ...(pin ? { hostKey: pin } : {}), knownHostsFile };
}
