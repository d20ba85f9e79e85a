// converse.js (the page Tern serves at /) in group chat: two users log in
// through the form and enter the same room through converse's "Add
// groupchat" dialog (the first creates it, converse makes it an instant
// room), then each sees the other's message. Once per transport.
// Run: TERN_BIN=build/tern node tests/web/muc.mjs (after `make web` and
// `npm ci` in tests/web). Screenshots go to build/test-artifacts/web/.
import { chromium } from 'playwright-core';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const ternBin = process.env.TERN_BIN || path.join(repo, 'build/tern');
const artifacts = path.join(repo, 'build/test-artifacts/web');
const PASSWORD = 'browser-secret';
const STEP_TIMEOUT = 20000;

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

async function startServer() {
  const dir = mkdtempSync(path.join(tmpdir(), 'tern-muc-web-'));
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
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('tern did not start:\n' + stderr)), 20000);
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
      if (out.includes('tern ready')) { clearTimeout(timer); resolve(); }
    });
    proc.on('exit', (code) => reject(new Error(`tern exited ${code}:\n${stderr}`)));
  });
  const addUser = (name) => execFileSync(ternBin, ['user', 'add', `${name}@localhost`, PASSWORD, '--config', config]);
  const stop = async () => {
    proc.kill('SIGTERM');
    await new Promise((resolve) => proc.on('exit', resolve));
    rmSync(dir, { recursive: true, force: true });
  };
  return { ports, addUser, stop, log: () => stderr };
}

async function groupChat(browser, server, transport) {
  const users = [`alice_muc_${transport}`, `bob_muc_${transport}`];
  users.forEach((u) => server.addUser(u));
  const room = `lobby_${transport}@conference.localhost`;
  const query = transport === 'bosh' ? '?transport=bosh' : '';
  const base = `http://127.0.0.1:${server.ports.http}/${query}`;
  const errors = [];
  const pages = [];
  for (const user of users) {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(base);
    await page.locator('input[name="jid"]').fill(user, { timeout: STEP_TIMEOUT });
    await page.locator('input[name="password"]').fill(PASSWORD);
    await page.locator('input[type="submit"], button[type="submit"]').first().click();
    await page.locator('converse-roster, .controlbox-section .roster, #chatrooms, converse-user-profile')
      .first().waitFor({ timeout: STEP_TIMEOUT });
    // The groupchats menu: "Join a groupchat" (converse's own modal).
    await page.locator('converse-rooms-list .dropdown-toggle, #chatrooms .dropdown-toggle, .controlbox-heading--groupchats ~ * .dropdown-toggle').first().click({ timeout: STEP_TIMEOUT });
    await page.getByText('Add groupchat').first().click({ timeout: STEP_TIMEOUT });
    const modal = page.locator('.modal.show, converse-add-muc-modal').first();
    await modal.locator('input[name="chatroom"]').fill(room, { timeout: STEP_TIMEOUT });
    const nickInModal = modal.locator('input[name="nickname"]');
    if (await nickInModal.count()) await nickInModal.fill(user.split('_')[0]);
    await modal.locator('input[type="submit"], button[type="submit"]').first().click();
    await page.locator('textarea.chat-textarea').waitFor({ timeout: STEP_TIMEOUT });
    pages.push(page);
  }
  mkdirSync(artifacts, { recursive: true });
  const say = async (page, text) => {
    const box = page.locator('textarea.chat-textarea');
    await box.fill(text);
    await box.press('Enter');
  };
  const sees = (page, text) => page.locator('.chat-msg__text', { hasText: text }).first()
    .waitFor({ timeout: STEP_TIMEOUT });
  await say(pages[0], `hello room over ${transport}`);
  await sees(pages[1], `hello room over ${transport}`);
  await say(pages[1], `hello alice over ${transport}`);
  await sees(pages[0], `hello alice over ${transport}`);
  await pages[1].screenshot({ path: path.join(artifacts, `converse-muc-${transport}.png`) });
  for (const page of pages) await page.context().close();
  // (converse's OMEMO WebAssembly is refused by the page's CSP: not ours.)
  const ours = errors.filter((e) => !e.includes('WebAssembly'));
  if (ours.length) console.log(`# page errors over ${transport}: ${ours.join('; ')}`);
  console.log(`ok - converse.js group chat over ${transport}: room created, messages both ways`);
}

async function main() {
  const server = await startServer();
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu'],
  });
  let failed = false;
  try {
    for (const transport of (process.env.TRANSPORTS || 'websocket,bosh').split(',')) {
      try {
        await groupChat(browser, server, transport);
      } catch (e) {
        failed = true;
        console.log(`not ok - converse.js group chat over ${transport}: ${e.message}`);
      }
    }
  } finally {
    await browser.close();
    await server.stop();
  }
  if (failed) {
    console.log('--- server log (tail) ---\n' + server.log().slice(-4000));
    process.exit(1);
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
