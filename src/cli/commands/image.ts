import { randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { ImageSigningKey } from '../../image';
import type { Credentials } from '../../credentials/store';
import { imageTypeFor } from '../../domain/models';
import { withExamples, type CliContext } from '../context';
import { UsageError } from '../exit-codes';

function payloadSize(text: string): number {
  const match = /^(\d+)(|K|M|KiB|MiB)$/.exec(text);
  if (!match) throw new UsageError(`--payload-size must be bytes, KiB or MiB (e.g. 4MiB), got "${text}"`);
  const unit = match[2]?.startsWith('K') ? 1024 : match[2]?.startsWith('M') ? 1024 * 1024 : 1;
  return Number(match[1]) * unit;
}

/** `ciu image build|inspect`: make an image in the ciu format, or read an image's header. */
/** The store's login for reading `url`'s header; the store's policy must allow that server. */
async function storedLogin(ref: string, url: string, env: NodeJS.ProcessEnv): Promise<Credentials> {
  const { parseImageUrl, portOf } = await import('../../transfer');
  const { credentialStore } = await import('../../credentials/store');
  const { endpoint } = parseImageUrl(url);
  const { username, password, privateKey } = credentialStore({ env }).resolve(ref, {
    purpose: 'image-server',
    host: endpoint.host,
    port: portOf(endpoint),
    protocol: endpoint.protocol,
  });
  return { username, ...(password === undefined ? {} : { password }), ...(privateKey ? { privateKey } : {}) };
}

/** The private key in `file`, refusing one that others may read. */
async function signingKey(file: string): Promise<ImageSigningKey> {
  const { signingKeyFromPem, ImageKeyError } = await import('../../image');
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`image build: --sign ${file} cannot be read: ${err.code ?? err.message}`);
  });
  let key: ImageSigningKey;
  try {
    key = signingKeyFromPem(text, `--sign ${file}`);
  } catch (err) {
    if (err instanceof ImageKeyError) throw new UsageError(`image build: ${err.message}`);
    throw err;
  }
  if (((await stat(file)).mode & 0o077) !== 0)
    throw new UsageError(
      `image build: --sign ${file} is readable by group or others; chmod 600 ${file} (a signing key is a secret)`,
    );
  return key;
}

async function writeNew(file: string, text: string, mode: number): Promise<void> {
  await writeFile(file, text, { mode, flag: 'wx' }).catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(
      err.code === 'EEXIST'
        ? `image keygen: ${file} exists; it is not overwritten`
        : `image keygen: cannot write ${file}: ${err.code ?? err.message}`,
    );
  });
}

export function registerImageCommands(program: Command, ctx: CliContext): void {
  const image = withExamples(
    program
      .command('image')
      .description('build or sign an image, make a signing key, or print an image header'),
    'ciu image inspect ftp://127.0.0.1:2121/ArubaOS_72xx_6.5.1.0_12345 --credentials image-ftp',
  );
  withExamples(
    image
      .command('build')
      .description('write an image: header (type, version, build, SHA-256) + payload')
      .requiredOption('--out <file>', 'image file to write')
      .requiredOption('--version <version>', 'version string, e.g. 6.5.1.0')
      .requiredOption('--build <n>', 'build number')
      .option('--model <model>', 'controller model the image is for (sets --type)')
      .option('--type <family>', 'platform family, e.g. 72xx')
      .option('--payload <file>', 'payload file (streamed)')
      .option('--payload-size <size>', 'random payload of this size instead of a file, e.g. 4MiB')
      .option('--sign <keyfile>', 'sign the header with this private key (`ciu image keygen`)')
      .action(async function (this: Command) {
        const o = this.opts<{
          out: string;
          version: string;
          build: string;
          model?: string;
          type?: string;
          payload?: string;
          payloadSize?: string;
          sign?: string;
        }>();
        const imageType = o.type ?? (o.model ? imageTypeFor(o.model) : undefined);
        if (!imageType)
          throw new UsageError(
            `image build: give --type <family> or a known --model (got "${o.model ?? ''}")`,
          );
        if (!/^\d+$/.test(o.build))
          throw new UsageError(`image build: --build must be a whole number, got "${o.build}"`);
        if (!o.payload === !o.payloadSize)
          throw new UsageError('image build: give exactly one of --payload <file> or --payload-size <size>');
        const payload = o.payload ?? randomBytes(payloadSize(o.payloadSize as string));
        const { buildImage, describeImageHeader } = await import('../../image');
        const sign = o.sign ? await signingKey(o.sign) : undefined;
        const header = await buildImage({
          payload,
          imageType,
          version: o.version,
          build: Number(o.build),
          out: o.out,
          ...(sign ? { sign } : {}),
        });
        ctx.io.out(`${describeImageHeader(header, o.out)}\n`);
      }),
    'ciu image build --model A7210 --version 6.5.1.0 --build 12345 --payload-size 4MiB --sign release.key --out ArubaOS_72xx_6.5.1.0_12345',
  );
  withExamples(
    image
      .command('keygen')
      .description(
        'make an Ed25519 key pair for signing images: <name>.key (private, mode 0600) and <name>.pub (for CIU_IMAGE_KEYS)',
      )
      .requiredOption('--out <name>', 'file name without extension')
      .action(async function (this: Command) {
        const { out } = this.opts<{ out: string }>();
        const { generateImageKeyPair } = await import('../../image');
        const pair = generateImageKeyPair();
        // 'wx': an existing key is never overwritten; images signed with it would no longer verify anywhere.
        await writeNew(`${out}.key`, pair.privateKeyPem, 0o600);
        await writeNew(`${out}.pub`, pair.publicKeyPem, 0o644);
        ctx.io.out(
          `key id   ${pair.keyId}\nprivate  ${out}.key (sign with: ciu image build --sign ${out}.key …)\npublic   ${out}.pub (trust with: CIU_IMAGE_KEYS=${out}.pub)\n`,
        );
      }),
    'ciu image keygen --out release',
  );
  withExamples(
    image
      .command('inspect <source>')
      .description(
        'print the header of an image file or URL (ftp, ftps, scp, sftp, tftp, http) — reads the header only',
      )
      .option(
        '--credentials <ref>',
        'login from the credential store ($CIU_CREDENTIALS_FILE or CIU_CRED_<REF>_*)',
      )
      .option('--host-key <fingerprint>', "pinned SSH host key 'SHA256:…' for scp/sftp")
      .option('--known-hosts <file>', 'known_hosts for scp/sftp (default: $CIU_KNOWN_HOSTS)')
      .action(async function (this: Command, source: string) {
        const o = this.opts<{ credentials?: string; hostKey?: string; knownHosts?: string }>();
        // The transfer clients (ssh2, basic-ftp) load only for the command that uses them.
        const { inspectImage } = await import('../../transfer');
        const inspected = await inspectImage(source, {
          ...(o.credentials ? { credentials: await storedLogin(o.credentials, source, ctx.env) } : {}),
          ...(o.hostKey ? { hostKey: o.hostKey } : {}),
          ...(o.knownHosts ? { knownHostsFile: o.knownHosts } : {}),
        });
        ctx.io.out(`${inspected.text}\nbytes read: ${inspected.bytesRead}\n`);
      }),
    'ciu image inspect ArubaOS_72xx_6.5.1.0_12345',
    'ciu image inspect sftp://images@127.0.0.1:2222/ArubaOS_72xx_6.5.1.0_12345 --credentials image-sftp',
  );
}
