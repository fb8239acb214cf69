import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';

/**
 * Ends `pid` when this process dies, however it dies (a SIGKILL runs no handler): a small shell holds
 * the read end of a pipe whose only write end is this process's, so the kernel closes it with us and
 * the shell's `read` returns. It then sends SIGTERM and, if the process lingers 5 s, SIGKILL. Call
 * the returned function when the process is stopped the ordinary way, so the shell goes quietly.
 */
export function endWithThisProcess(pid: number): () => void {
  const script = [
    'read -r _',
    'kill -TERM "$1" 2>/dev/null || exit 0',
    'i=0',
    'while kill -0 "$1" 2>/dev/null && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i+1)); done',
    'kill -KILL "$1" 2>/dev/null',
  ].join('; ');
  const watchdog = spawn('/bin/sh', ['-c', script, 'ciu-watchdog', String(pid)], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  // Neither the shell nor its pipe keeps this process alive.
  watchdog.unref();
  (watchdog.stdin as Writable & { unref?: () => void }).unref?.();
  return () => {
    watchdog.kill('SIGKILL');
  };
}
