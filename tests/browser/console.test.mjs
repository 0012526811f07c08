// Browser test of the cordon console: sign in, list and filter incidents,
// keyboard navigation, open one, change its status, see the dashboard charts
// and the policies view. Run by run.py (which starts cordon and seeds the
// store); writes screenshots to $CORDON_SCREENSHOT_DIR.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const url = process.env.CONSOLE_URL;
const password = process.env.CONSOLE_PASSWORD;
const shots = process.env.CORDON_SCREENSHOT_DIR;
fs.mkdirSync(shots, { recursive: true });

const browser = await chromium.launchPersistentContext(process.env.USER_DATA_DIR, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1440, height: 900 },
});
const page = browser.pages()[0] || await browser.newPage();
page.setDefaultTimeout(15000);
const consoleErrors = [];
page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
page.on('pageerror', (e) => consoleErrors.push(String(e)));
const offsite = [];
page.on('request', (r) => { if (!r.url().startsWith(url)) offsite.push(r.url()); });

async function step(name, fn) {
  const started = Date.now();
  try {
    await fn();
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (e) {
    console.log(`FAIL ${name}`);
    await page.screenshot({ path: path.join(shots, `failure-${name.replace(/\W+/g, '-')}.png`), fullPage: true }).catch(() => {});
    throw e;
  }
}

// page.waitForFunction evaluates a string, which the console's CSP forbids
// (as it should); page.evaluate of a function is not affected.
async function poll(predicate, timeout = 15000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (await page.evaluate(predicate)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${predicate}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const rows = () => page.locator('table.incidents tbody tr');

try {
  await step('an anonymous visitor sees the login form and no incident', async () => {
    await page.goto(url);
    await page.locator('form.login-card').waitFor();
    assert.equal(await page.locator('table.incidents').count(), 0);
  });

  await step('a wrong password is refused with a message', async () => {
    await page.fill('input[name=username]', 'admin');
    await page.fill('input[name=password]', 'wrong');
    await page.click('button[type=submit]');
    await page.locator('.login-card .error:not([hidden])').waitFor();
    assert.match(await page.locator('.login-card .error').innerText(), /wrong user name or password/);
  });

  await step('signing in shows the incident list', async () => {
    await page.fill('input[name=password]', password);
    await page.click('button[type=submit]');
    await rows().first().waitFor();
    assert.equal(await rows().count(), 25);  // one page
    assert.match(await page.locator('.summary').innerText(), /1–25 of 36/);
    assert.equal(await page.locator('#user-name').innerText(), 'admin');
    await page.screenshot({ path: path.join(shots, 'console-list.png') });
  });

  await step('paging shows the rest', async () => {
    await page.click('.pager button:has-text("Next")');
    await poll(() => document.querySelector('.summary')?.textContent.startsWith('26–36'));
    assert.equal(await rows().count(), 11);
    await page.click('.pager button:has-text("Previous")');
    await poll(() => document.querySelector('.summary')?.textContent.startsWith('1–25'));
  });

  await step('filters narrow the list and live in the URL', async () => {
    await page.selectOption('select[name=severity]', 'high');
    await poll(() => location.hash.includes('severity=high'));
    await poll(() => [...document.querySelectorAll('table.incidents tbody tr')]
      .every((tr) => tr.querySelector('.badge.sev-high')));
    const high = await rows().count();
    assert.ok(high > 0 && high < 25, `high rows ${high}`);
    await page.fill('input[name=policy]', 'Cloud secrets');
    await poll(() => location.hash.includes('policy=Cloud'));
    await poll(() => [...document.querySelectorAll('table.incidents tbody tr')]
      .every((tr) => tr.textContent.includes('Cloud secrets')));
    await page.click('button:has-text("Clear")');
    await poll(() => document.querySelector('.summary')?.textContent.endsWith('of 36'));
  });

  await step('/ focuses the search, which finds by subject', async () => {
    await page.evaluate(() => document.activeElement?.blur());
    await page.keyboard.press('/');
    await poll(() => document.activeElement?.id === 'search');
    await page.keyboard.type('payroll');
    await poll(() => location.hash.includes('q=payroll'));
    await poll(() => {
      const r = [...document.querySelectorAll('table.incidents tbody tr')];
      return r.length > 0 && r.every((tr) => /payroll/i.test(tr.textContent));
    });
  });

  await step('an impossible filter shows the empty state', async () => {
    await page.fill('#search', 'no-such-subject-anywhere');
    await page.locator('.empty h2', { hasText: 'No incidents match' }).waitFor();
    await page.click('button:has-text("Clear")');
    await poll(() => document.querySelector('.summary')?.textContent.endsWith('of 36'));
  });

  let openedId;
  await step('j/k select a row and Enter opens it', async () => {
    await page.evaluate(() => document.activeElement?.blur());
    await page.keyboard.press('j');
    await page.keyboard.press('j');
    await page.keyboard.press('k');
    const selected = page.locator('table.incidents tbody tr.selected');
    assert.equal(await selected.count(), 1);
    openedId = await selected.getAttribute('data-id');
    assert.equal(openedId, await rows().nth(1).getAttribute('data-id'));
    await page.keyboard.press('Enter');
    await page.locator('.detail-view').waitFor();
    assert.match(await page.locator('h1').innerText(), new RegExp(`Incident #${openedId}`));
  });

  await step('the detail shows envelope, policies and masked matches', async () => {
    const text = await page.locator('.detail-view').innerText();
    assert.match(text, /From/);
    assert.match(text, /@corp\.example/);
    assert.match(text, /Policies fired \(1\)/);
    assert.ok(await page.locator('mark.sample').count() > 0);
    for (const sample of await page.locator('mark.sample').allInnerTexts()) assert.match(sample, /\*{4}/);
  });

  await step('the status workflow moves the incident and records the comment', async () => {
    await page.fill('textarea[name=comment]', 'Checked with the sender');
    await page.click('button[data-status=in_progress]');
    await page.locator('.view-head .badge.status-in_progress').waitFor();
    await page.locator('ol.history li', { hasText: 'Checked with the sender' }).waitFor();
    await page.click('button[data-status=resolved]');
    await page.locator('.view-head .badge.status-resolved').waitFor();
    assert.equal(await page.locator('ol.history li').count(), 2);
    assert.equal(await page.locator('button[data-status=false_positive]').count(), 0);  // closed: reopen only
    await page.screenshot({ path: path.join(shots, 'console-detail.png') });
  });

  await step('Esc goes back and the list shows the new status', async () => {
    await page.keyboard.press('Escape');
    await rows().first().waitFor();
    const row = page.locator(`table.incidents tbody tr[data-id="${openedId}"]`);
    await row.locator('.badge.status-resolved').waitFor();
  });

  await step('the dashboard draws its charts', async () => {
    await page.click('nav a[data-nav=dashboard]');
    await page.locator('.dashboard-view svg.chart').first().waitFor();
    assert.equal(await page.locator('.tile').first().locator('.tile-value').innerText(), '36');
    const columns = await page.locator('svg.chart rect[data-severity]').count();
    assert.ok(columns >= 10, `severity columns drawn: ${columns}`);
    assert.ok(await page.locator('svg.chart rect[data-severity=high]').count() > 0);
    const cards = await page.locator('.chart-card h2').allInnerTexts();
    assert.deepEqual(cards, ['Incidents over time by severity', 'Messages: blocked, passed, bypassed',
      'Top policies', 'Top senders', 'Incidents by action']);
    const topPolicies = page.locator('.chart-card', { hasText: 'Top policies' });
    assert.ok(await topPolicies.locator('rect.bar').count() >= 4);
    await page.screenshot({ path: path.join(shots, 'console-dashboard.png') });
  });

  await step('the policies view lists policies and filters and reloads', async () => {
    await page.keyboard.press('g');
    await page.keyboard.press('p');
    await page.locator('.policies-view').waitFor();
    assert.deepEqual(await page.locator('.policy h2').allInnerTexts(), ['PCI card numbers', 'Project Neptune']);
    assert.match(await page.locator('.filters-table').innerText(), /-\*@internal\.example/);
    await page.click('#reload-button');
    await page.locator('.reload-status.ok', { hasText: 'Reloaded: 2 policies' }).waitFor();
    await page.screenshot({ path: path.join(shots, 'console-policies.png') });
  });

  await step('signing out returns to the login form and the API refuses', async () => {
    await page.click('#logout-button');
    await page.locator('form.login-card').waitFor();
    const status = await page.evaluate(async () => (await fetch('/api/v1/incidents')).status);
    assert.equal(status, 401);
  });

  assert.deepEqual(offsite, [], 'requests left the console origin');
  assert.deepEqual(consoleErrors.filter((e) => !/401|Unauthorized/.test(e)), [], 'browser console errors');
} finally {
  await browser.close();
}
console.log('browser test passed');
