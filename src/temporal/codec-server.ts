/**
 * A codec server (Temporal's remote codec contract): POST /decode and /encode take and return
 * `{ payloads: [{ metadata: { key: base64 }, data: base64 }] }`. The Web UI (`--ui-codec-endpoint`,
 * `TEMPORAL_CODEC_ENDPOINT`) calls it from the operator's browser, the `temporal` CLI with
 * `--codec-endpoint`. It holds the payload keys only, never the workers' message keys.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';

/** Options of `startCodecServer`. */
export interface CodecServerOptions {
  codec: PayloadCodec;
  /** Default 127.0.0.1: only loopback, like every other ciu listener. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** Browser origins allowed to call it (the Web UI's). Default http://127.0.0.1:8233 and http://localhost:8233. */
  allowedOrigins?: string[];
  /** Largest request body accepted, in bytes. Default 4 MiB. */
  maxBodyBytes?: number;
  /** Where request failures are reported (never payload contents). */
  onError?: (error: Error, path: string) => void;
}

/** A running codec server. */
export interface CodecServer {
  url: string;
  close(): Promise<void>;
}

interface JsonPayload {
  metadata?: Record<string, string> | null;
  data?: string | null;
}

class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function fromJson(value: unknown, index: number): Payload {
  if (typeof value !== 'object' || value === null)
    throw new RequestError(400, `payloads[${index}] must be an object`);
  const { metadata, data } = value as JsonPayload;
  if (data !== undefined && data !== null && typeof data !== 'string')
    throw new RequestError(400, `payloads[${index}].data must be base64`);
  const entries = Object.entries(metadata ?? {}).map(([key, v]): [string, Uint8Array] => {
    if (typeof v !== 'string')
      throw new RequestError(400, `payloads[${index}].metadata.${key} must be base64`);
    return [key, Buffer.from(v, 'base64')];
  });
  return { metadata: Object.fromEntries(entries), data: Buffer.from(data ?? '', 'base64') };
}

function toJson({ metadata, data }: Payload): JsonPayload {
  return {
    metadata: Object.fromEntries(
      Object.entries(metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')]),
    ),
    data: Buffer.from(data ?? []).toString('base64'),
  };
}

/** The body, refused past `limit` bytes without reading the rest. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) return Promise.reject(new RequestError(413, `request body over ${limit} bytes`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new RequestError(413, `request body over ${limit} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

async function transform(codec: PayloadCodec, path: string, body: Buffer): Promise<string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new RequestError(400, 'body must be JSON');
  }
  const raw = (parsed as { payloads?: unknown }).payloads;
  if (!Array.isArray(raw)) throw new RequestError(400, 'body.payloads must be an array');
  const payloads = raw.map(fromJson);
  let out: Payload[];
  try {
    out = path === '/decode' ? await codec.decode(payloads) : await codec.encode(payloads);
  } catch (err) {
    throw new RequestError(422, (err as Error).message);
  }
  return JSON.stringify({ payloads: out.map(toJson) });
}

/** Starts the codec server; resolves once it listens. */
export async function startCodecServer(options: CodecServerOptions): Promise<CodecServer> {
  const origins = new Set(options.allowedOrigins ?? ['http://127.0.0.1:8233', 'http://localhost:8233']);
  const limit = options.maxBodyBytes ?? 4 * 1024 * 1024;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const origin = req.headers.origin;
    if (origin !== undefined) {
      // A page from another origin gets no CORS headers, so the browser keeps the answer from it.
      if (!origins.has(origin)) throw new RequestError(403, `origin ${origin.slice(0, 200)} is not allowed`);
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      res.setHeader('Vary', 'Origin');
    }
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'content-type, x-namespace, authorization');
      res.setHeader('Access-Control-Max-Age', '600');
      res.writeHead(204).end();
      return;
    }
    if (path !== '/decode' && path !== '/encode') throw new RequestError(404, 'POST /decode or /encode');
    if (req.method !== 'POST') throw new RequestError(405, 'POST only');
    const answer = await transform(options.codec, path, await readBody(req, limit));
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(answer);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const error = err instanceof Error ? err : new Error(String(err));
      const status = err instanceof RequestError ? err.status : 500;
      options.onError?.(error, req.url ?? '');
      if (!res.headersSent)
        res
          .writeHead(status, { 'Content-Type': 'text/plain', Connection: 'close' })
          .end(`${error.message}\n`);
    });
  });
  server.requestTimeout = 30_000;
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
