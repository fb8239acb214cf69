import { runCli } from './program';

// `ciu` entry: bin/ciu.js and `npm start` land here. Long-running commands (start, worker, simulate)
// keep the process alive themselves; the rest end with the exit code their outcome means.
runCli(process.argv.slice(2), {
  io: { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) },
  env: process.env,
})
  .then((code) => {
    process.exitCode = code;
  })
  .catch((err: unknown) => {
    process.stderr.write(`ciu: ${String(err)}\n`);
    process.exitCode = 1;
  });
