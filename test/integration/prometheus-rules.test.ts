import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

// The alerting rules shipped in deploy/prometheus/, through Prometheus's own tool.
const dir = join(__dirname, '../../deploy/prometheus');

function promtool(...args: string[]) {
  return spawnSync('promtool', args, { cwd: dir, encoding: 'utf8' });
}

describe('deploy/prometheus/ciu-alerts.yml', () => {
  it('passes promtool check rules', () => {
    const run = promtool('check', 'rules', 'ciu-alerts.yml');
    expect(run.stdout).toContain('SUCCESS: 5 rules found');
    expect(run.status).toBe(0);
  });

  it('fires each alert on the series that should fire it (promtool test rules)', () => {
    const run = promtool('test', 'rules', 'ciu-alerts.test.yml');
    expect(`${run.stdout}${run.stderr}`).toContain('SUCCESS');
    expect(run.status).toBe(0);
  });
});
