import { protocols, type Protocol } from '../domain/rules';
import type { TransferEndpoint } from './endpoint';

/**
 * Splits an image URL (`sftp://user@127.0.0.1:2222/ArubaOS_72xx_6.4.0.0_81234`) into an endpoint
 * without credentials, the path on the server, and the user name if the URL names one. A password
 * in the URL is refused: secrets come from the credential store.
 */
export function parseImageUrl(url: string): { endpoint: TransferEndpoint; path: string; username?: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`image URL ${JSON.stringify(url)} is not a URL`);
  }
  const protocol = parsed.protocol.replace(/:$/, '') as Protocol;
  if (!protocols.includes(protocol))
    throw new Error(`image URL protocol "${protocol}" is not one of ${protocols.join(', ')}`);
  if (parsed.password) throw new Error('image URL must not contain a password; use a credentials reference');
  const path = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (!path) throw new Error(`image URL ${JSON.stringify(url)} names no file`);
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const endpoint: TransferEndpoint = {
    protocol,
    host,
    ...(parsed.port ? { port: Number(parsed.port) } : {}),
  };
  return { endpoint, path, ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}) };
}
