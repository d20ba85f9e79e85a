// converse.js (the page Tern serves at /) in group chat: two users log in
// through the form and enter the same room through converse's "Add
// groupchat" dialog (the first creates it, converse makes it an instant
// room), then each sees the other's message. Once per transport.
// Run: TERN_BIN=build/tern node tests/web/muc.mjs (after `make web` and
// `npm ci` in tests/web). Screenshots go to build/test-artifacts/web/.
import { artifacts, PASSWORD, STEP_TIMEOUT, runCases } from './harness.mjs';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

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

const transports = (process.env.TRANSPORTS || 'websocket,bosh').split(',');
runCases(transports.map((t) => ({
  name: `converse.js group chat over ${t}`,
  run: (browser, server) => groupChat(browser, server, t),
}))).catch((e) => { console.error(e); process.exit(1); });
