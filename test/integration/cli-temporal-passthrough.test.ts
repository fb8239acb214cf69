import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

// `npx ciu temporal …` is how the README and the demo print Temporal CLI commands: on a fresh machine
// `temporal` is in .tools/venv/bin, not on PATH.
const bin = join(__dirname, '../../bin/ciu.js');
const withoutTemporalOnPath = { ...process.env, PATH: '/usr/bin:/bin', TEMPORAL_CLI_PATH: '' };

function ciu(...args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: withoutTemporalOnPath });
}

describe('ciu temporal', () => {
  it('runs the Temporal CLI from .tools/venv with the arguments as given', () => {
    const run = ciu('temporal', '--version');
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^temporal version \d+\.\d+\.\d+/);
    expect(run.status).toBe(0);
  });

  it("passes --address to temporal (not to ciu) and reports temporal's failure", () => {
    const run = ciu('temporal', 'workflow', 'list', '--address', '127.0.0.1:1');
    expect(run.stderr).toContain('failed connecting to Temporal server at 127.0.0.1:1');
    expect(run.status).toBe(1);
  });
});
