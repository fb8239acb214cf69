import type { ImageHeader } from './header';

/** Header facts as `key: value` lines for `ciu image inspect`. */
export function describeImageHeader(header: ImageHeader, source?: string): string {
  const rows: Array<[string, string]> = [
    ...(source ? ([['source', source]] as Array<[string, string]>) : []),
    ['format', `ciu image v${header.formatVersion}`],
    ['image type', header.imageType],
    ['version', header.version],
    ['build', String(header.build)],
    ['payload', `${header.payloadLength} bytes`],
    ['sha256', header.payloadSha256],
    ['signed by', header.signedBy ? `key ${header.signedBy}` : 'nobody (unsigned)'],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}
