import type { Command } from 'commander';
import { buildProgram, runCli } from '../../src/cli/program';
import type { CliContext } from '../../src/cli/context';

function capture(): CliContext & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return {
    io: { out: (s) => void (out += s), err: (s) => void (err += s) },
    env: { CIU_HOME: '/nonexistent/ciu-help-test' },
    stdout: () => out,
    stderr: () => err,
  };
}

function allCommands(command: Command, path: string[] = []): Array<{ path: string[]; command: Command }> {
  return command.commands.flatMap((sub) => [
    { path: [...path, sub.name()], command: sub },
    ...allCommands(sub, [...path, sub.name()]),
  ]);
}

describe('ciu --help', () => {
  let commands: Array<{ path: string[]; command: Command }> = [];
  beforeAll(async () => {
    commands = allCommands(await buildProgram(capture()));
  });

  it('covers the ArubaOS-style words and the runtime commands', () => {
    const paths = commands.map((c) => c.path.join(' '));
    expect(paths).toEqual(
      expect.arrayContaining([
        'upgrade-profile model',
        'upgrade-profile autoboot',
        'upgrade-profile max-downloads',
        'upgrade target add',
        'upgrade target remove',
        'upgrade target purge',
        'inventory import',
        'write memory',
        'show upgrade status',
        'show upgrade config',
        'worker',
      ]),
    );
  });

  // `ciu temporal --help` is the Temporal CLI's own help (test/integration/cli-temporal-passthrough.test.ts).
  it('"<command> --help" shows an example, for every command', async () => {
    const ownHelp = commands.filter((c) => c.path[0] !== 'temporal');
    expect(ownHelp.length).toBeGreaterThan(20);
    for (const { path } of ownHelp) {
      const ctx = capture();
      const code = await runCli([...path, '--help'], ctx);
      expect({ path, code, example: /Examples?:\n {2}\$ ciu /.test(ctx.stdout()) }).toEqual({
        path,
        code: 0,
        example: true,
      });
    }
  });

  it('builds only the commands a command line can reach (all of them for help or an unknown word)', async () => {
    const top = async (argv: string[]) => (await buildProgram(capture(), argv)).commands.map((c) => c.name());
    expect(await top(['--config-dir', 'inventory', 'show', 'upgrade', 'status'])).toEqual([
      'upgrade',
      'write',
      'show',
    ]);
    expect(await top(['frobnicate'])).toEqual(await top([]));
    expect(await top(['inventory', 'add'])).toEqual(['upgrade-profile', 'upgrade', 'inventory']);
  });

  it('exits 2 for an unknown command or a missing argument', async () => {
    const unknown = capture();
    expect(await runCli(['frobnicate'], unknown)).toBe(2);
    expect(unknown.stderr()).toContain("unknown command 'frobnicate'");
    const missing = capture();
    expect(await runCli(['upgrade', 'target', 'add'], missing)).toBe(2);
    expect(missing.stderr()).toContain("missing required argument 'selector'");
  });

  it('exits 2 with the field named for a bad value, before touching any file', async () => {
    const ctx = capture();
    expect(await runCli(['upgrade-profile', 'max-downloads', 'many'], ctx)).toBe(2);
    expect(ctx.stderr()).toBe('ciu: profile.maxDownloads must be a whole number >= 1, got "many"\n');
  });

  it('exits 1 with a hint when Temporal is not reachable', async () => {
    const ctx = capture();
    const code = await runCli(
      ['--address', '127.0.0.1:1', 'upgrade', 'target', 'purge', 'all', '--campaign', 'x'],
      ctx,
    );
    expect(code).toBe(1);
    expect(ctx.stderr()).toMatch(/cannot reach Temporal at 127\.0\.0\.1:1: .*pass --address/);
  });
});
