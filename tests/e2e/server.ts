// Vitest global setup for the end-to-end suite: serves the production build with
// `next start` on a free port and hands its URL to the tests.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import type { TestProject } from 'vitest/node';

const ROOT = resolve(__dirname, '..', '..');

declare module 'vitest' {
  export interface ProvidedContext {
    baseURL: string;
  }
}

/** A port nothing listens on now (the app server here; JupyterLab in the widget test). */
export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => ok(port));
    });
    srv.on('error', fail);
  });
}

async function waitFor(url: string, server: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`next start exited with ${server.exitCode}:\n${log()}`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`next start did not answer at ${url} within 60 s:\n${log()}`);
}

let server: ChildProcess | undefined;

export default async function setup(project: TestProject): Promise<() => void> {
  if (!existsSync(join(ROOT, '.next', 'BUILD_ID'))) throw new Error('no production build: run `npm run build` first');
  const port = await freePort();
  let output = '';
  server = spawn(join(ROOT, 'node_modules', '.bin', 'next'), ['start', '-p', String(port), '-H', '127.0.0.1'], {
    cwd: ROOT,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stdout!.on('data', (d) => (output += d));
  server.stderr!.on('data', (d) => (output += d));
  const baseURL = `http://127.0.0.1:${port}`;
  await waitFor(baseURL, server, () => output);
  project.provide('baseURL', baseURL);
  return () => {
    server?.kill('SIGTERM');
  };
}
