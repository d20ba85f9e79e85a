// What the browser tests share: a real `tern serve` on free ports with an
// HTTP listener, Debian's chromium through playwright-core, and a runner
// that tries every case, prints the server's log when one fails, and
// fails too when tern does not exit cleanly on SIGTERM.
import { chromium } from 'playwright-core';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, '../..');
export const ternBin = process.env.TERN_BIN || path.join(repo, 'build/tern');
export const artifacts = path.join(repo, 'build/test-artifacts/web');
export const PASSWORD = 'browser-secret';
export const STEP_TIMEOUT = 20000;

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

export async function startServer() {
  const dir = mkdtempSync(path.join(tmpdir(), 'tern-web-'));
  const ports = { c2s: await freePort(), http: await freePort() };
  const config = path.join(dir, 'tern.toml');
  writeFileSync(config, `[server]
domains = ["localhost"]
data_dir = "${dir}/data"
[listen]
c2s = ["127.0.0.1:${ports.c2s}"]
c2s_tls = []
s2s = []
http = ["127.0.0.1:${ports.http}"]
https = []
component = []
`);
  const proc = spawn(ternBin, ['serve', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('tern did not start:\n' + stderr)), 20000);
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
      if (out.includes('tern ready')) { clearTimeout(timer); resolve(); }
    });
    exited.then(({ code }) => reject(new Error(`tern exited ${code}:\n${stderr}`)));
  });
  const addUser = (name) => execFileSync(ternBin, ['user', 'add', `${name}@localhost`, PASSWORD, '--config', config]);
  // Resolves to the exit status; a stop that is not a clean exit 0 is a failure.
  const stop = async () => {
    proc.kill('SIGTERM');
    const status = await exited;
    rmSync(dir, { recursive: true, force: true });
    return status;
  };
  return { ports, addUser, stop, log: () => stderr };
}

// Runs each case ({ name, run(browser, server) }) against one server and one
// browser; exits 1 if any failed or tern did not exit 0 on SIGTERM.
export async function runCases(cases) {
  const server = await startServer();
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu'],
  });
  let failed = false;
  try {
    for (const c of cases) {
      try {
        await c.run(browser, server);
      } catch (e) {
        failed = true;
        console.log(`not ok - ${c.name}: ${e.stack}`);
      }
    }
  } finally {
    await browser.close();
    const { code, signal } = await server.stop();
    if (code !== 0) {
      failed = true;
      console.log(`not ok - tern stopped with ${signal ? 'signal ' + signal : 'exit status ' + code}`);
    }
  }
  if (failed) {
    console.log('--- server log (tail) ---\n' + server.log().slice(-4000));
    process.exit(1);
  }
}
