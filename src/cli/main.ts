import { cleanText } from '../domain/clean-text';
import { runCli } from './program';

// A reader that stops early (`ciu --help | head`) is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

// `ciu` entry: bin/ciu.js and `npm start` land here. Output passes cleanText: it carries controller
// replies and error texts, whose escape sequences must not act on the operator's terminal. Every command has stopped what it started when
// it returns; the explicit exit ends what the Temporal runtime or a log transport still holds open.
void runCli(process.argv.slice(2), {
  io: {
    out: (s) => process.stdout.write(cleanText(s, { keepNewlines: true })),
    err: (s) => process.stderr.write(cleanText(s, { keepNewlines: true })),
    control: (sequence) => process.stdout.write(sequence),
  },
  env: process.env,
})
  .catch((err: unknown) => {
    process.stderr.write(`ciu: ${cleanText(String(err))}\n`);
    return 1;
  })
  .then((code) => process.exit(code));
