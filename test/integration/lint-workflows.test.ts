import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

// `npm run lint` is what keeps workflow code deterministic; prove it rejects I/O imports there.
const root = join(__dirname, '..', '..');

function lint(file: string, ...flags: string[]) {
  const run = spawnSync(
    process.execPath,
    [join(root, 'node_modules', 'eslint', 'bin', 'eslint.js'), '--format', 'json', ...flags, file],
    {
      cwd: root,
      encoding: 'utf8',
    },
  );
  const [result] = JSON.parse(run.stdout) as Array<{
    messages: Array<{ ruleId: string; line: number; message: string }>;
  }>;
  return { status: run.status, messages: result!.messages };
}

test('ESLint rejects fs, node:net and ssh2 imports in a workflows/ file', () => {
  const { status, messages } = lint('test/fixtures/lint/workflows/imports-io.ts', '--no-ignore');
  const restricted = messages.filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports');
  expect(status).toBe(1);
  expect(restricted.map((m) => m.line)).toEqual([3, 4, 5]);
  expect(restricted[0]!.message).toContain('workflow code must stay deterministic');
});

test('the same imports outside workflows/ are allowed', () => {
  const { messages } = lint('devkit/temporal/dev-server.ts');
  expect(messages.filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports')).toEqual([]);
});

test('ESLint rejects dev-kit imports, type-only ones included, in product code', () => {
  const { status, messages } = lint('test/fixtures/lint/product/imports-devkit.ts', '--no-ignore');
  const restricted = messages.filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports');
  expect(status).toBe(1);
  expect(restricted.map((m) => m.line)).toEqual([2, 3]);
  expect(restricted[0]!.message).toContain('product code never imports the dev kit');
});
