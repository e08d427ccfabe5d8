// Ownership of the HTTP/2 client sessions (h2c and gRPC backends): each handler owns its own
// sessions, like its undici pools, and handler.close() closes them; another handler's sessions
// are untouched, and a process whose handlers are closed exits on its own.
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandler, type GatewayHandler } from '../../src/adapters/node.js';
import { client, closeServer, listen, waitFor } from './helpers.js';
import { protocolManifests, startH2cUpstream, type H2cUpstream } from './protocol-helpers.js';

describe('h2c sessions belong to their handler', () => {
  let h2: H2cUpstream;
  const handlers: GatewayHandler[] = [];
  const servers: Server[] = [];
  const urls: string[] = [];

  beforeAll(async () => {
    h2 = await startH2cUpstream();
    for (let i = 0; i < 2; i++) {
      const handler = createHandler({ manifests: protocolManifests(), backends: { h2: h2.url } });
      const server = createServer(handler);
      handlers.push(handler);
      servers.push(server);
      urls.push(await listen(server));
    }
  });
  afterAll(async () => {
    for (const s of servers) await closeServer(s);
    for (const h of handlers) h.close();
    await h2.close();
  });

  const get = async (url: string) => {
    const c = client(url);
    try {
      return await c.send('/h2c/owned', { headers: { host: 'app.example.com' } });
    } finally {
      await c.close();
    }
  };

  it('each handler has its own session; close() ends it and leaves the other handler working', async () => {
    expect((await get(urls[0]!)).status).toBe(200);
    expect((await get(urls[1]!)).status).toBe(200);
    // Two handlers, two sessions to the same origin: nothing is shared between handlers.
    expect(h2.open).toBe(2);
    handlers[0]!.close();
    await waitFor(() => h2.open === 1, 10_000, 'the closed handler to end its HTTP/2 session');
    const again = await get(urls[1]!);
    expect(again.status).toBe(200);
    expect(h2.open).toBe(1);
    // A closed handler makes no new session: its requests fail as an upstream failure would.
    const after = await get(urls[0]!);
    expect(after.status).toBe(502);
    expect(h2.open).toBe(1);
  });
});

describe('a process whose handler is closed exits', () => {
  it('exits on its own after handler.close(), the upstream server closing gracefully', async () => {
    const fixture = fileURLToPath(new URL('./fixtures/h2-exit.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', fixture], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c));
    child.stderr.on('data', (c: Buffer) => (err += c));
    // Without the handler closing its session, the upstream's graceful close (and so the process)
    // would wait for the session's one-minute idle timeout.
    const code = await new Promise<number | string>((resolve) => {
      const t = setTimeout(() => {
        child.kill('SIGKILL');
        resolve('still running after 30 s');
      }, 30_000);
      child.on('exit', (c) => {
        clearTimeout(t);
        resolve(c ?? -1);
      });
    });
    expect(code, err).toBe(0);
    expect(out.trim().split('\n')).toEqual(['from h2c', 'closed', 'upstream closed']);
  }, 60_000);
});
