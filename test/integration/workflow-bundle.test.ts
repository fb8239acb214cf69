import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { bundleWorkflows } from '../../workers/bundle';

// The operator's log never carries webpack's report; the compiled worker loads the prebuilt bundle.
const root = join(__dirname, '../..');

describe('workflow bundle', () => {
  it('bundles with nothing from the bundler in an info-level log', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const { code } = await bundleWorkflows(logger);
    expect(code).toContain('masterUpgrade');
    expect(code).toContain('controllerUpgrade');
    expect(lines).toEqual([]);
  });

  it('`npm run build` writes dist/workflow-bundle.js and the compiled worker uses it', () => {
    const compiled = join(root, 'dist/workers/bundle.js');
    expect(existsSync(compiled)).toBe(true);
    const chosen = execFileSync(
      process.execPath,
      [
        '-e',
        `require(${JSON.stringify(compiled)}).workflowBundleFor(require('pino')({ level: 'info' })).then((b) => console.log(JSON.stringify(b)))`,
      ],
      { cwd: root, encoding: 'utf8' },
    );
    expect(JSON.parse(chosen)).toEqual({ codePath: join(root, 'dist/workflow-bundle.js') });
  });
});
