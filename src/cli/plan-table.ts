import type { CampaignPlan, ControllerPlan } from '../domain/plan';
import { fittedTable } from './status-table';

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

/** `hq-pair standby`, `hq-pair` (no role), `-` (no group). */
function groupText(p: ControllerPlan): string {
  if (p.group === undefined) return '-';
  return p.redundancy === undefined ? p.group : `${p.group} ${p.redundancy}`;
}

/** `ciu show upgrade plan`: one row per controller — what would happen, where, when, or why not. */
export function renderPlan(
  plan: CampaignPlan,
  /** width: the terminal's columns the table wraps to fit (default 120; 0 = one line per controller). */
  options: { width?: number } = {},
): string {
  const withWave = plan.waves !== undefined;
  // Only an inventory with redundancy groups has the column.
  const withGroup = plan.controllers.some((p) => p.group !== undefined);
  const head = [
    'IP',
    'Model',
    'Plan',
    ...(withWave ? ['Wave'] : []),
    ...(withGroup ? ['Group'] : []),
    'Image',
    'Partition',
    'Flash free',
    'Download',
    'Reboot',
    'Why',
  ];
  const rows = plan.controllers.map((p) => [
    p.ip,
    p.model,
    actionLabels[p.action],
    ...(withWave ? [p.wave ?? '-'] : []),
    ...(withGroup ? [groupText(p)] : []),
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
  lines.push(fittedTable(head, rows, options.width ?? 120));
  lines.push(
    Object.entries(plan.counts)
      .map(([action, n]) => `${n} ${actionLabels[action as ControllerPlan['action']]}`)
      .join(', ') || 'no controllers',
  );
  return `${lines.join('\n')}\n`;
}
