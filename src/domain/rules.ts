/**
 * The value rules every layer shares — CLI staging, workflow and activity input schemas, the device
 * driver's command builders, the transfer clients. Each rule lives here once; nothing else defines
 * what an IPv4 address, a host, a file name or a host-key fingerprint is. Pure: no I/O.
 */

/** Image-server protocols. `http` is served read-only; `ftps` is explicit FTP over TLS. */
export const protocols = ['ftp', 'ftps', 'scp', 'sftp', 'tftp', 'http'] as const;
export type Protocol = (typeof protocols)[number];

/** Protocols whose download logs in with a user name and password (from a credentials reference). */
export const loginProtocols: readonly Protocol[] = ['ftp', 'ftps', 'scp', 'sftp'];

export function isProtocol(value: unknown): value is Protocol {
  return typeof value === 'string' && (protocols as readonly string[]).includes(value);
}

const octet = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const ipv4Pattern = new RegExp(`^${octet}\\.${octet}\\.${octet}\\.${octet}$`);
const hostnameLabel = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const userNamePattern = /^[A-Za-z0-9_][A-Za-z0-9._@-]{0,63}$/;
const fileSegment = /^[A-Za-z0-9_+][A-Za-z0-9._+-]{0,127}$/;
const fingerprintPattern = /^SHA256:[A-Za-z0-9+/]{43}=?$/;
const refPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const versionPattern = /^[0-9A-Za-z][0-9A-Za-z._-]{0,31}$/;
const imageTypePattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,15}$/;

/** Longest image file name (with folders) ciu puts on a controller's command line. */
export const maxFileNameLength = 255;

/** A dotted-quad IPv4 address ('10.1.4.17'). */
export function isIPv4(text: string): boolean {
  return ipv4Pattern.test(text);
}

/** A DNS host name; an all-numeric name that is not a valid IPv4 address (10.1.4.256) is a typo, not a name. */
export function isHostName(text: string): boolean {
  if (/^[\d.]+$/.test(text)) return false;
  return text.length <= 253 && text.split('.').every((label) => hostnameLabel.test(label));
}

/** An IPv4 address or a DNS host name. */
export function isHost(text: string): boolean {
  return isIPv4(text) || isHostName(text);
}

/** A TCP/UDP port, 1..65535. */
export function isPort(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65535;
}

/** A login name: letters, digits, `._@-`, at most 64, not starting with `.`, `-` or `@`. */
export function isUserName(text: string): boolean {
  return userNamePattern.test(text);
}

/**
 * Why `name` is not an image file name ciu may send to a controller, or undefined when it is one:
 * `/`-separated segments of letters, digits and `._+-`, none empty, none starting with `.` or `-`
 * (no hidden files, no options, no `.`/`..`), each at most 128 characters, all at most 255.
 */
export function fileNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'must be a file name, not empty';
  if (name.length > maxFileNameLength)
    return `must be a file name of at most ${maxFileNameLength} characters`;
  for (const segment of name.split('/')) {
    if (segment === '') return 'must be a file name: no empty folder (leading, trailing or double /)';
    if (!fileSegment.test(segment))
      return 'must be a file name: letters, digits and ._+- in each /-separated part, none starting with . or -, each at most 128 characters';
  }
  return undefined;
}

/** A file name (or relative path) safe to put on a controller's command line; see fileNameProblem. */
export function isSafeFileName(name: string): boolean {
  return fileNameProblem(name) === undefined;
}

/** A host-key fingerprint as `ssh-keygen -lf` prints it: 'SHA256:<base64>'. */
export function isHostKeyFingerprint(text: string): boolean {
  return fingerprintPattern.test(text);
}

/** A credentials reference: a name in the worker's credential store, never the secret itself. */
export function isCredentialsRef(text: string): boolean {
  return refPattern.test(text);
}

/** A software version ('6.4.0.0', '8.10.0.2-FIPS'): letters, digits and . _ -, at most 32 characters. */
export function isVersion(text: string): boolean {
  return versionPattern.test(text);
}

/** A platform family as an image header or a controller names it ('72xx', 'MMC'). */
export function isImageType(text: string): boolean {
  return imageTypePattern.test(text);
}
