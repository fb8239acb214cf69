import { failureTypes, type FailureType } from '../domain/errors';
import { boundText } from '../domain/bounded';
import { cleanText } from '../domain/clean-text';
import { isImageType, isVersion } from '../domain/rules';

/**
 * Parsers for the controller CLI's replies. Replies are data: each parser returns a typed result or
 * throws ReplyFormatError naming what it could not find. Line endings may be \r\n or \n.
 */

/** A reply that does not have the shape the parser expects. */
export class ReplyFormatError extends Error {
  override readonly name = 'ReplyFormatError';
  constructor(
    readonly command: string,
    readonly missing: string,
  ) {
    super(`unexpected reply to "${command}": ${missing}`);
  }
}

/**
 * A version the reply names, refused unless it is one: a hostile controller's
 * `Version 6.4\x1b]0;…` must never be stored, shown or compared.
 */
function checkedVersion(command: string, version: string): string {
  if (isVersion(version)) return version;
  throw new ReplyFormatError(command, `version ${quoted(version)} is not a version like 6.4.0.0`);
}

/** `value` in quotes with every control character, C1 included, written as an escape: safe to show anywhere. */
function quoted(value: string): string {
  return JSON.stringify(value.slice(0, 64)).replace(
    /[\u007f-\u009f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function lines(text: string): string[] {
  return text.split(/\r?\n|\r/);
}

/** `show version`. */
export interface VersionReply {
  /** ciu model name, e.g. A7210 (from "MODEL: Aruba7210-US"). */
  model: string;
  version: string;
  build: number;
  /** From "Switch uptime is …"; absent when the reply has no uptime line. */
  uptimeSeconds?: number;
}

export function parseShowVersion(text: string): VersionReply {
  const model = /MODEL: Aruba([A-Za-z0-9]+?)(?:-[A-Z]+)?\)/.exec(text)?.[1];
  if (!model) throw new ReplyFormatError('show version', 'no "MODEL: Aruba…" line');
  const version = /\), Version (\S+)/.exec(text)?.[1];
  if (!version) throw new ReplyFormatError('show version', 'no "Version" in the ArubaOS line');
  const build = /\(build (\d+)\)/.exec(text)?.[1];
  if (!build) throw new ReplyFormatError('show version', 'no "(build N)"');
  const reply: VersionReply = {
    model: /^\d/.test(model) ? `A${model}` : model,
    version: checkedVersion('show version', version),
    build: Number(build),
  };
  const up = /uptime is (?:(\d+) days? )?(?:(\d+) hours? )?(?:(\d+) minutes? )?(\d+) seconds?/.exec(text);
  if (up) {
    const [days = 0, hours = 0, minutes = 0, seconds = 0] = up.slice(1).map((n) => Number(n ?? 0));
    reply.uptimeSeconds = ((days * 24 + hours) * 60 + minutes) * 60 + seconds;
  }
  return reply;
}

/** One partition in `show image version`. */
export interface PartitionReply {
  partition: 0 | 1;
  /** Marked **Default boot**: boots on the next reload. */
  defaultBoot: boolean;
  /** Marked **Running**: the partition the controller booted from. */
  running: boolean;
  /** Absent when the partition holds no image. */
  version?: string;
  build?: number;
  /** Only the ciu simulator prints it; a real controller names no image type. */
  imageType?: string;
  /** The controller's own verdict on the image, e.g. "Digitally Signed - Production Build". */
  signature?: string;
}

export function parseShowImageVersion(text: string): PartitionReply[] {
  const result: PartitionReply[] = [];
  let current: PartitionReply | undefined;
  for (const line of lines(text)) {
    const head = /^Partition\s*:\s*\d+:(\d)\s+\(([^)]+)\)(.*)$/.exec(line);
    if (head) {
      const n = Number(head[1]);
      if (n !== 0 && n !== 1) throw new ReplyFormatError('show image version', `partition ${n} out of range`);
      current = {
        partition: n,
        defaultBoot: head[3]?.includes('**Default boot**') ?? false,
        running: head[3]?.includes('**Running**') ?? false,
      };
      result.push(current);
      continue;
    }
    if (!current) continue;
    const field = /^([A-Za-z ]+?)\s*:\s*(.*)$/.exec(line);
    if (!field) continue;
    const [, key, value = ''] = field;
    if (key === 'Software Version') {
      current.version = checkedVersion(
        'show image version',
        /ArubaOS (\S+)/.exec(value)?.[1] ?? value.trim(),
      );
      const signature = /\(([^()]*Signed[^()]*)\)/.exec(value)?.[1];
      if (signature) current.signature = signature;
    } else if (key === 'Build number') current.build = Number(value.trim());
    else if (key === 'Image type') {
      const imageType = value.trim();
      if (!isImageType(imageType))
        throw new ReplyFormatError(
          'show image version',
          `image type ${JSON.stringify(imageType)} is not a platform family`,
        );
      current.imageType = imageType;
    }
  }
  if (result.length === 0) throw new ReplyFormatError('show image version', 'no "Partition :" entries');
  return result;
}

/** `show image checksum partition <n>`: the payload SHA-256 (hex), or undefined for an empty partition. */
export function parseImageChecksum(text: string): string | undefined {
  const found = /SHA-256\s*:\s*([0-9a-f]{64})/i.exec(text)?.[1];
  if (found) return found.toLowerCase();
  if (/: None\b/.test(text)) return undefined;
  throw new ReplyFormatError('show image checksum', 'no "SHA-256 :" line');
}

/** One file system of `show storage`, in bytes. */
export interface StorageReply {
  mount: string;
  sizeBytes: number;
  usedBytes: number;
  availableBytes: number;
}

const sizeUnits: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** A `df -h` style size: "241.6M", "1.8G", "4.0K", "0". */
function parseSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([KMGT]?)$/i.exec(text);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * (sizeUnits[(m[2] ?? '').toUpperCase()] ?? 1));
}

/**
 * `show storage`: ArubaOS's table of file systems (Filesystem, Size, Used, Available, Use%, Mounted
 * on); the row mounted on `mount` (the dialect's, /flash).
 */
export function parseShowStorage(text: string, mount: string): StorageReply {
  for (const line of lines(text)) {
    const cells = line.trim().split(/\s+/);
    if (cells.length < 6 || cells[cells.length - 1] !== mount) continue;
    const [size, used, available] = cells.slice(-5, -2).map(parseSize);
    if (size === undefined || used === undefined || available === undefined)
      throw new ReplyFormatError('show storage', `no sizes in the ${mount} row`);
    return { mount, sizeBytes: size, usedBytes: used, availableBytes: available };
  }
  throw new ReplyFormatError('show storage', `no file system mounted on ${mount}`);
}

/** A progress line of `copy`: "Received 65536 of 1048576 bytes (6%)". */
export function parseProgressLine(line: string): { bytes: number; totalBytes?: number } | undefined {
  const m = /^Received (\d+)(?: of (\d+))? bytes/.exec(line.trim());
  if (!m) return undefined;
  return m[2] === undefined ? { bytes: Number(m[1]) } : { bytes: Number(m[1]), totalBytes: Number(m[2]) };
}

/** Outcome of a `copy` command. */
export type CopyReply =
  { ok: true; bytes: number; totalBytes?: number } | { ok: false; failureType: FailureType; error: string };

const copyErrorKinds: Array<[RegExp, FailureType]> = [
  [/not supported on this platform/i, failureTypes.imageTypeMismatch],
  [/not enough space on flash/i, failureTypes.flashFull],
  [/login refused by image server/i, failureTypes.authenticationFailed],
  [/host key (verification failed|mismatch|unknown)/i, failureTypes.hostKeyMismatch],
];

/** The result of `copy`: the first "Error: …" line wins; success needs "Image upgraded successfully". */
export function parseCopyReply(text: string): CopyReply {
  let progress: { bytes: number; totalBytes?: number } = { bytes: 0 };
  for (const line of lines(text)) {
    const refusal = /^\s*(% Invalid input.*?)\s*$/.exec(line)?.[1];
    if (refusal) return { ok: false, failureType: failureTypes.commandRejected, error: refusal };
    const error = /^\s*Error:\s*(.+?)\s*$/.exec(line)?.[1];
    if (error) {
      const kind = copyErrorKinds.find(([pattern]) => pattern.test(error));
      return { ok: false, failureType: kind?.[1] ?? failureTypes.downloadFailed, error };
    }
    progress = parseProgressLine(line) ?? progress;
  }
  if (/^Image upgraded successfully\s*$/m.test(text)) return { ok: true, ...progress };
  return {
    ok: false,
    failureType: failureTypes.downloadFailed,
    error: 'copy ended without "Image upgraded successfully"',
  };
}

/** One line of `show log system <n>`. */
export interface LogLine {
  time: string;
  /** ArubaOS severity tag: ERRS, WARN, NOTI, INFO. */
  severity: string;
  process: string;
  message: string;
}

export function parseShowLog(text: string): LogLine[] {
  const result: LogLine[] = [];
  for (const line of lines(text)) {
    const m = /^(\S+)\s+:\d+:\s+<([A-Z]+)>\s+\|([^|]+)\|\s+(.*)$/.exec(line);
    if (m) result.push({ time: m[1] ?? '', severity: m[2] ?? '', process: m[3] ?? '', message: m[4] ?? '' });
  }
  return result;
}

/** One controller in a master's `show switches`. */
export interface SwitchEntry {
  ip: string;
  /** ciu model name (A7210 from "Aruba7210"). */
  model: string;
  role: 'master' | 'standby' | 'local';
  version: string;
  build?: number;
  name: string;
  /** The Status column (`up`, `down`), when the table has one. */
  status?: string;
  /** The Configuration State column (`UPDATE SUCCESSFUL`, …), when the table has one. */
  configState?: string;
}

/** `show switches`: rows it could parse, and the text of every row it could not. */
export interface SwitchesReply {
  switches: SwitchEntry[];
  refused: Array<{ line: string; reason: string }>;
}

const switchRoles: Record<string, SwitchEntry['role']> = {
  master: 'master',
  conductor: 'master',
  standby: 'standby',
  local: 'local',
  md: 'local',
  'managed device': 'local',
};

/**
 * `show switches` (6.x and 8.x): columns are found from the dashed underline below the header, not
 * from fixed offsets, so wider names or extra columns shift nothing.
 */
export function parseShowSwitches(text: string): SwitchesReply {
  const all = lines(text);
  const underlineAt = all.findIndex(
    (line, i) => i > 0 && /^-+( +-+)+\s*$/.test(line) && /IP Address/.test(all[i - 1] ?? ''),
  );
  if (underlineAt === -1) throw new ReplyFormatError('show switches', 'no header with a dashed underline');
  const header = all[underlineAt - 1] ?? '';
  const underline = all[underlineAt] ?? '';
  const starts = [...underline.matchAll(/-+/g)].map((m) => m.index);
  const names = starts.map((start, i) => header.slice(start, starts[i + 1]).trim());
  const column = (name: string): number => names.indexOf(name);
  const wanted = {
    ip: column('IP Address'),
    model: column('Model'),
    type: column('Type'),
    version: column('Version'),
    name: column('Name'),
  };
  for (const [key, index] of Object.entries(wanted))
    if (index === -1) throw new ReplyFormatError('show switches', `no "${key}" column`);
  const reply: SwitchesReply = { switches: [], refused: [] };
  for (const line of all.slice(underlineAt + 1)) {
    if (!line.trim()) continue;
    if (/^Total Switches\s*:/i.test(line.trim())) continue;
    const cell = (index: number): string =>
      line.slice(starts[index], index + 1 < starts.length ? starts[index + 1] : undefined).trim();
    const ip = cell(wanted.ip);
    const model = /^Aruba(\w+?)(?:-[A-Z]+)?$/.exec(cell(wanted.model))?.[1];
    const role = switchRoles[cell(wanted.type).toLowerCase()];
    const version = /^(\d+(?:\.\d+){1,3}[\w.-]*?)(?:_(\d+))?$/.exec(cell(wanted.version));
    const reason = !/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)
      ? 'no IPv4 address'
      : !model
        ? 'no Aruba model'
        : !role
          ? `unknown type "${cell(wanted.type)}"`
          : !version
            ? 'no version'
            : undefined;
    if (reason || !model || !role || !version) {
      reply.refused.push({ line: line.trimEnd(), reason: reason ?? 'unparsable' });
      continue;
    }
    const optionalCell = (name: string) => (column(name) === -1 ? '' : cell(column(name)));
    const status = optionalCell('Status');
    const configState = optionalCell('Configuration State');
    reply.switches.push({
      ...(status ? { status: boundText(cleanText(status), 40) } : {}),
      ...(configState ? { configState: boundText(cleanText(configState), 80) } : {}),
      ip,
      model: /^\d/.test(model) ? `A${model}` : model,
      role,
      version: version[1] ?? '',
      ...(version[2] === undefined ? {} : { build: Number(version[2]) }),
      name: cell(wanted.name),
    });
  }
  return reply;
}

/** A command the CLI rejected: "% Invalid input detected …" or "Error: …" on a non-copy command. */
export function commandError(text: string): string | undefined {
  for (const line of lines(text)) {
    const m = /^\s*(% .+|Error:\s*.+?)\s*$/.exec(line)?.[1];
    if (m) return m;
  }
  return undefined;
}

/** A controller's health as its own `show switches` row shows it. */
export interface HealthReply {
  /** Its own row was in the table; without it nothing was judged. */
  found: boolean;
  status?: string;
  configState?: string;
  /** Why it is not healthy; absent when it is (or was not found). */
  problem?: string;
}

/**
 * Health from `show switches` on the controller itself: its own row (by IP) must say Status `up`,
 * and its Configuration State must not match `failedStates` (ArubaOS: UPDATE FAILED, … ERROR).
 */
export function parseSwitchHealth(text: string, ip: string, failedStates: RegExp): HealthReply {
  const own = parseShowSwitches(text).switches.find((s) => s.ip === ip);
  if (!own) return { found: false };
  const { status, configState } = own;
  const problems = [
    ...(status !== undefined && status.toLowerCase() !== 'up' ? [`Status ${status}`] : []),
    ...(configState !== undefined && failedStates.test(configState)
      ? [`Configuration State ${configState}`]
      : []),
  ];
  return {
    found: true,
    ...(status === undefined ? {} : { status }),
    ...(configState === undefined ? {} : { configState }),
    ...(problems.length > 0 ? { problem: `show switches: ${problems.join(', ')}` } : {}),
  };
}
