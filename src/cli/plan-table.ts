import Table from 'cli-table3';
import type { CampaignPlan, ControllerPlan } from '../domain/plan';

const actionLabels: Record<ControllerPlan['action'], string> = {
  upgrade: 'Upgrade',
  'up-to-date': 'Up-to-date',
  'not-targeted': 'Not part of target',
  refused: 'Refused',
};

function target(p: ControllerPlan): string {
  if (!p.image) return '-';
  const version = p.targetVersion
    ? ` → ${p.targetVersion}${p.targetBuild === undefined ? '' : ` build ${p.targetBuild}`}`
    : '';
  return `${p.image}${version}`;
}

/** `ciu show upgrade plan`: one row per controller — what would happen, where, when, or why not. */
export function renderPlan(plan: CampaignPlan): string {
  const withWave = plan.waves !== undefined;
  const table = new Table({
    head: [
      'IP',
      'Model',
      'Plan',
      ...(withWave ? ['Wave'] : []),
      'Image',
      'Partition',
      'Flash free',
      'Download',
      'Reboot',
      'Why',
    ],
    style: { head: [], border: [] },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const p of plan.controllers)
    table.push([
      p.ip,
      p.model,
      actionLabels[p.action],
      ...(withWave ? [p.wave ?? '-'] : []),
      target(p),
      p.partition ?? '-',
      p.freeFlash ?? '-',
      p.downloadWindow ?? '-',
      p.reboot ?? '-',
      p.reason ?? '',
    ]);
  const lines = [`Plan at ${plan.at}`];
  const upgrading = plan.controllers.find((p) => p.action === 'upgrade');
  if (upgrading)
    lines.push(
      `start: ${upgrading.startAt ?? 'at write memory'}; pre-checks ${upgrading.preChecks ? 'on' : 'off'}; fallback ${upgrading.fallback ? 'on' : 'off'}`,
    );
  if (plan.waves)
    lines.push(
      `waves: ${plan.waves
        .map(
          (w) =>
            `${w.name} ${w.size}${w.soak ? `, soak ${w.soak}` : ''}${w.maxFailures === undefined ? '' : `, max-failures ${w.maxFailures}`}`,
        )
        .join(' → ')}`,
    );
  if (plan.unmatchedSelectors.length > 0)
    lines.push(`Targets matching no controller: ${plan.unmatchedSelectors.join(', ')}`);
  lines.push(table.toString());
  lines.push(
    Object.entries(plan.counts)
      .map(([action, n]) => `${n} ${actionLabels[action as ControllerPlan['action']]}`)
      .join(', ') || 'no controllers',
  );
  return `${lines.join('\n')}\n`;
}
