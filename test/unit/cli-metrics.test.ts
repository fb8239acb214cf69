import type { ActivityExecuteInput } from '@temporalio/worker';
import type { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { createCiuMetrics, downloadMetricsInterceptor, startMetricsServer } from '../../src/metrics';

function execute(
  metrics: ReturnType<typeof createCiuMetrics>,
  activityType: string,
  next: () => Promise<unknown>,
) {
  const ctx = { info: { activityType } } as unknown as Context;
  const inbound = downloadMetricsInterceptor(metrics)(ctx).inbound;
  const input = {
    args: [{ controller: { model: 'A7210' } }],
    headers: {},
  } as unknown as ActivityExecuteInput;
  return inbound?.execute?.(input, next);
}

describe('ciu metrics', () => {
  it('counts downloads started, failed by type, succeeded, and bytes — and nothing else', async () => {
    const metrics = createCiuMetrics({ defaultMetrics: false });
    await execute(metrics, 'downloadImage', async () => ({ bytes: 4096 }));
    await expect(
      execute(metrics, 'downloadImage', async () => {
        throw ApplicationFailure.retryable('refused', 'DownloadFailed');
      }),
    ).rejects.toThrow('refused');
    await execute(metrics, 'verifyImage', async () => ({}));
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^ciu_downloads_started_total\{model="A7210"\} 2$/m);
    expect(text).toMatch(/^ciu_downloads_succeeded_total\{model="A7210"\} 1$/m);
    expect(text).toMatch(/^ciu_downloads_failed_total\{model="A7210",type="DownloadFailed"\} 1$/m);
    expect(text).toMatch(/^ciu_download_bytes_total\{model="A7210"\} 4096$/m);
  });

  it('serves /metrics over HTTP on loopback, 404 elsewhere', async () => {
    const metrics = createCiuMetrics({ defaultMetrics: false });
    const server = await startMetricsServer(metrics.registry, '127.0.0.1:0');
    try {
      const response = await fetch(`http://${server.address}/metrics`);
      expect(response.status).toBe(200);
      expect(await response.text()).toContain('# HELP ciu_downloads_started_total');
      expect((await fetch(`http://${server.address}/`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});
