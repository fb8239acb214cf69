import { isKnownModel } from '../../src/domain/models';
import { isIPv4 } from '../../src/domain/rules';
import type { ControllerFaults } from './faults';
import { UsageError } from '../../src/cli/exit-codes';

const counters = {
  'refuse-downloads': 'refuseDownloads',
  'stall-downloads': 'stallDownloads',
  'corrupt-downloads': 'corruptDownloads',
} as const;
const flags = {
  'flash-full': 'flashFull',
  unreachable: 'unreachable',
  blackhole: 'blackhole',
  'never-come-back': 'neverComeBack',
  'boot-old-version': 'bootOldVersion',
  'unhealthy-after-upgrade': 'unhealthyAfterUpgrade',
} as const;
const names = [...Object.keys(counters).map((n) => `${n}=<n>`), ...Object.keys(flags), 'wrong-model=<model>'];

/**
 * Parses `ciu simulate --fault <ip>:<fault>[,<fault>…]`, e.g. `127.20.0.2:refuse-downloads=5,boot-old-version`,
 * into fault switches by IP, merged over `into`.
 */
export function parseFaultSpec(
  spec: string,
  into: Record<string, ControllerFaults> = {},
): Record<string, ControllerFaults> {
  const colon = spec.indexOf(':');
  const ip = spec.slice(0, colon);
  if (colon < 0 || !isIPv4(ip))
    throw new UsageError(`--fault must be <ip>:<fault>[,<fault>…], got "${spec}"`);
  const faults: ControllerFaults = { ...into[ip] };
  for (const item of spec.slice(colon + 1).split(',')) {
    const [name = '', value] = item.split('=');
    if (name in counters) {
      if (!value || !/^\d+$/.test(value))
        throw new UsageError(`--fault ${ip}: ${name} needs a count, e.g. ${name}=5`);
      faults[counters[name as keyof typeof counters]] = Number(value);
    } else if (name in flags && value === undefined) {
      faults[flags[name as keyof typeof flags]] = true;
    } else if (name === 'wrong-model' && value && isKnownModel(value)) {
      faults.wrongModel = value;
    } else {
      throw new UsageError(`--fault ${ip}: unknown fault "${item}" (known: ${names.join(', ')})`);
    }
  }
  return { ...into, [ip]: faults };
}

/** Every `--fault` option given, merged by IP. */
export function parseFaultSpecs(specs: readonly string[]): Record<string, ControllerFaults> {
  return specs.reduce<Record<string, ControllerFaults>>((all, spec) => parseFaultSpec(spec, all), {});
}
