import type { Command } from 'commander';
import { settingsFromEnv } from '../../settings';
import { untilStopSignal, withExamples, type CliContext } from '../context';
import { UsageError } from '../exit-codes';

/** A key file's ring; a bad one is a usage error naming the file and field. */
async function keyRing(file: string) {
  const { loadKeyRing, KeyFileError } = await import('../../temporal/keys');
  try {
    return loadKeyRing(file);
  } catch (err) {
    if (err instanceof KeyFileError) throw new UsageError(err.message);
    throw err;
  }
}

/** `ciu keys add` and `ciu codec-server`: the key files, and the codec server the Web UI decodes with. */
export function registerCodecCommands(program: Command, ctx: CliContext): void {
  const keys = withExamples(
    program.command('keys').description('key files: payload encryption and message authentication'),
    'ciu keys add .ciu/payload-keys.yaml',
  );
  withExamples(
    keys
      .command('add <file>')
      .description(
        'add a fresh random key to a key file (created mode 600) and make it current; older keys stay to decode what they wrote',
      )
      .option('--id <id>', 'key id (default: the UTC time, e.g. 20261127-174200)'),
    'ciu keys add /run/secrets/ciu-payload-keys.yaml   # then CIU_PAYLOAD_KEYS=/run/secrets/ciu-payload-keys.yaml',
  ).action(async (file: string, opts: { id?: string }) => {
    const { addKeyToFile, KeyFileError } = await import('../../temporal/keys');
    try {
      const id = addKeyToFile(file, opts.id ? { id: opts.id } : {});
      ctx.io.out(`key ${id} added to ${file}; it is now the current key\n`);
    } catch (err) {
      if (err instanceof KeyFileError) throw new UsageError(err.message);
      throw err;
    }
  });

  withExamples(
    program
      .command('codec-server')
      .description(
        'serve /decode and /encode for the Web UI (--ui-codec-endpoint) and `temporal --codec-endpoint`, until Ctrl-C',
      )
      .option(
        '--payload-keys <file>',
        'payload key file (default: $CIU_PAYLOAD_KEYS; without one it only inflates compressed payloads)',
      )
      .option('--host <ip>', 'address to listen on', '127.0.0.1')
      .option('--port <port>', 'port to listen on', '8888')
      .option(
        '--allow-origin <origin...>',
        'browser origins allowed to call it (default: the dev server UI, http://127.0.0.1:8233 http://localhost:8233)',
      )
      .option('--max-body <bytes>', 'largest request body accepted', String(4 * 1024 * 1024))
      .action(
        async (opts: {
          payloadKeys?: string;
          host: string;
          port: string;
          allowOrigin?: string[];
          maxBody: string;
        }) => {
          const file = opts.payloadKeys ?? settingsFromEnv(ctx.env).payloadKeysFile;
          const port = Number(opts.port);
          if (!Number.isInteger(port) || port < 0 || port > 65535)
            throw new UsageError(`--port must be a port number, got "${opts.port}"`);
          const maxBodyBytes = Number(opts.maxBody);
          if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 1024)
            throw new UsageError(
              `--max-body must be a number of bytes (at least 1024), got "${opts.maxBody}"`,
            );
          // Without payload keys it still inflates what workers deflated (payloads over 128 KiB).
          const ring = file ? await keyRing(file) : undefined;
          const { EncryptionCodec } = await import('../../temporal/payload-codec');
          const { CodecChain, CompressionCodec } = await import('../../temporal/payload-compression');
          const { startCodecServer } = await import('../../temporal/codec-server');
          const server = await startCodecServer({
            codec: new CodecChain([new CompressionCodec(), ...(ring ? [new EncryptionCodec(ring)] : [])]),
            host: opts.host,
            port,
            maxBodyBytes,
            ...(opts.allowOrigin ? { allowedOrigins: opts.allowOrigin } : {}),
            onError: (error, path) => ctx.io.err(`codec server: ${path}: ${error.message}\n`),
          });
          ctx.io.out(
            `codec server on ${server.url} (${ring ? `keys ${[...ring.keys.keys()].join(', ')}` : 'no payload keys: inflates compressed payloads only'}). Ctrl-C stops it.\n`,
          );
          try {
            await untilStopSignal();
          } finally {
            await server.close();
          }
        },
      ),
    'ciu codec-server --payload-keys .ciu/payload-keys.yaml --port 8888   # temporal server start-dev --ui-codec-endpoint http://127.0.0.1:8888',
  );
}
