import { createServer } from 'node:net';

/**
 * A loopback address on which `port` is free right now, so an image server can listen on its
 * protocol's well-known port (as a real one does) while other servers run beside it. Tries random
 * addresses in 127.99.0.0/16, a range the simulated fleets do not use.
 */
export async function freeLoopbackAddress(port: number): Promise<string> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const host = `127.99.${Math.floor(Math.random() * 256)}.${1 + Math.floor(Math.random() * 254)}`;
    if (await canListen(host, port)) return host;
  }
  throw new Error(`no loopback address in 127.99.0.0/16 has port ${port} free`);
}

function canListen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}
