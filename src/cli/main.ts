import { runCli } from './program';

// A reader that stops early (`ciu --help | head`) is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

// `ciu` entry: bin/ciu.js and `npm start` land here. Every command has stopped what it started when
// it returns; the explicit exit ends what the Temporal runtime or a log transport still holds open.
void runCli(process.argv.slice(2), {
  io: { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) },
  env: process.env,
})
  .catch((err: unknown) => {
    process.stderr.write(`ciu: ${String(err)}\n`);
    return 1;
  })
  .then((code) => process.exit(code));
