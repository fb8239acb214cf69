import type { StoredCredentials } from '../../src/credentials/store';
import type { Protocol } from '../../src/domain/types';

/** A test server's login, allowed only for that server: its address, port and protocols (and SSH host key). */
export function serverCredentials(
  login: { username: string; password: string },
  server: { host: string; port: number; protocols: Protocol[]; hostKey?: string },
): StoredCredentials {
  return {
    ...login,
    allow: {
      purpose: 'image-server',
      hosts: [server.host],
      ports: [server.port],
      protocols: server.protocols,
      ...(server.protocols.some((p) => p === 'ftp' || p === 'http') ? { allowPlaintext: true } : {}),
      ...(server.hostKey ? { hostKeys: [server.hostKey] } : {}),
    },
  };
}
