// Browser test of the cordon console: sign in, the list's layout at 1440,
// 1024, 768 and 390 px (no horizontal overflow, Policies visible), list and
// filter incidents (partial matches, saved filters), keyboard navigation,
// bulk triage, CSV export, a live update made by another session, open one,
// change its status and owner, users for admins, the dashboard charts and
// the policies view. Run by run.py (which starts cordon and seeds the
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

// The list at one width: nothing wider than the viewport (the page, the
// top bar, the table's box), and the Policies of the first row on screen.
async function checkLayout(width) {
  await page.setViewportSize({ width, height: 900 });
  await rows().first().waitFor();
  const m = await page.evaluate(() => {
    const doc = document.documentElement;
    const top = document.getElementById('topbar');
    const wrap = document.querySelector('.table-wrap');
    const cell = document.querySelector('table.incidents tbody tr td.col-policies');
    const head = document.querySelector('table.incidents th.col-policies');
    const r = cell.getBoundingClientRect();
    const wide = [...document.querySelectorAll('body *')].filter((e) => {
      const b = e.getBoundingClientRect();
      return b.width > 0 && b.right > doc.clientWidth + 1 && !e.closest('.table-wrap, nav');
    }).map((e) => `${e.tagName}.${e.className}`);
    return {
      page: doc.scrollWidth - doc.clientWidth,
      top: top.scrollWidth - top.clientWidth,
      table: wrap.scrollWidth - wrap.clientWidth,
      left: r.left, right: r.right, width: r.width, text: cell.textContent,
      head: head && getComputedStyle(head).display !== 'none' ? head.getBoundingClientRect().right : null,
      client: doc.clientWidth, wide,
    };
  });
  assert.ok(m.page <= 0, `${width}px: the page scrolls sideways by ${m.page}px (${m.wide.join(', ')})`);
  assert.ok(m.top <= 0, `${width}px: the top bar overflows by ${m.top}px`);
  assert.ok(m.table <= 0, `${width}px: the table scrolls sideways by ${m.table}px`);
  assert.deepEqual(m.wide, [], `${width}px: wider than the viewport`);
  assert.ok(m.width >= 40 && m.left >= 0 && m.right <= m.client, `${width}px: Policies cell at ${m.left}–${m.right} of ${m.client}`);
  assert.ok(m.text.length > 0);
  if (width >= 1024) assert.ok(m.head !== null && m.head <= m.client, `${width}px: Policies header at ${m.head}`);
  await page.screenshot({ path: path.join(shots, `console-list-${width}.png`) });
}

// A second session, as another console user would have: changes made
// through it must reach the open list by itself.
async function otherSession() {
  const r = await fetch(`${url}/api/v1/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password }) });
  assert.equal(r.status, 200);
  const cookie = r.headers.get('set-cookie').split(';')[0];
  const { csrf_token: csrf } = await r.json();
  return (method, p, body) => fetch(`${url}/api/v1${p}`, { method,
    headers: { Cookie: cookie, 'X-CSRF-Token': csrf, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body) });
}

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
    assert.match(await page.locator('td.col-time').first().innerText(), /(UTC|GMT|[A-Z]{2,5})/);  // with the zone
    await page.screenshot({ path: path.join(shots, 'console-list.png') });
  });

  for (const width of [1440, 1024, 768, 390]) {
    await step(`the list fits ${width} px with Policies visible`, () => checkLayout(width));
  }
  await page.setViewportSize({ width: 1440, height: 900 });

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
    await page.fill('input[name=policy_contains]', 'cloud sec');
    await poll(() => location.hash.includes('policy_contains=cloud'));
    await poll(() => [...document.querySelectorAll('table.incidents tbody tr')]
      .every((tr) => tr.textContent.includes('Cloud secrets')));
    await page.click('button:has-text("Clear")');
    await poll(() => document.querySelector('.summary')?.textContent.endsWith('of 36'));
  });

  await step('partial sender and subject filters, saved per user', async () => {
    await page.fill('input[name=sender_contains]', 'carol@');
    await poll(() => location.hash.includes('sender_contains=carol'));
    await poll(() => {
      const r = [...document.querySelectorAll('table.incidents tbody tr')];
      return r.length > 0 && r.every((tr) => tr.querySelector('.col-sender').textContent.startsWith('carol@'));
    });
    await page.fill('input[name=subject]', 'DEPLOY');
    await poll(() => location.hash.includes('subject=DEPLOY'));
    await poll(() => [...document.querySelectorAll('table.incidents tbody tr')]
      .every((tr) => /deploy/i.test(tr.querySelector('.col-subject').textContent)));
    const narrowed = await rows().count();
    assert.ok(narrowed > 0 && narrowed < 25, `carol's deploy incidents: ${narrowed}`);
    const summary = await page.locator('.summary').innerText();
    await page.fill('#save-name', 'carol deploy');
    await page.click('#save-filter');
    await poll(() => [...document.querySelectorAll('#saved-filters option')].some((o) => o.value === 'carol deploy'));
    await page.click('button:has-text("Clear")');
    await poll(() => document.querySelector('.summary')?.textContent.endsWith('of 36'));
    await page.selectOption('#saved-filters', 'carol deploy');
    await poll(() => location.hash.includes('sender_contains=carol') && location.hash.includes('subject=DEPLOY'));
    await poll(() => document.querySelectorAll('table.incidents tbody tr').length > 0 &&
      [...document.querySelectorAll('table.incidents tbody tr')].every((tr) => /deploy/i.test(tr.textContent)));
    assert.equal(await rows().count(), narrowed);
    const csv = await page.evaluate(async () => {
      const r = await fetch(document.getElementById('export-csv').href);
      return { type: r.headers.get('content-type'), text: await r.text() };
    });
    assert.match(csv.type, /^text\/csv/);
    const lines = csv.text.trim().split('\r\n');
    assert.equal(lines.length, narrowed + 1);
    assert.ok(lines.slice(1).every((l) => l.includes('carol@corp.example')));
    await page.click('button:has-text("Clear")');
    await poll(() => document.querySelector('.summary')?.textContent.endsWith('of 36'));
  });

  await step('bulk triage: select rows, set status and owner', async () => {
    const ids = [await rows().nth(2).getAttribute('data-id'), await rows().nth(3).getAttribute('data-id')];
    await rows().nth(2).locator('input.pick').check();
    await rows().nth(3).locator('input.pick').check();
    await page.locator('.bulk:not([hidden])').waitFor();
    assert.match(await page.locator('.bulk-count').innerText(), /2 selected/);
    await page.selectOption('select[name=bulk-status]', 'in_progress');
    await page.selectOption('select[name=bulk-assignee]', 'admin');
    await page.click('#bulk-apply');
    await page.locator('.bulk-message.ok', { hasText: 'Changed 2' }).waitFor().catch(() => {});
    for (const id of ids) {
      const row = page.locator(`table.incidents tbody tr[data-id="${id}"]`);
      await row.locator('.badge.status-in_progress').waitFor();
      assert.equal(await row.locator('.col-owner').innerText(), 'admin');
    }
    await page.selectOption('select[name=assignee]', 'admin');
    await poll(() => document.querySelector('.summary')?.textContent.endsWith('of 2'));
    await page.click('button:has-text("Clear")');
    await poll(() => document.querySelector('.summary')?.textContent.endsWith('of 36'));
  });

  await step('a change made in another session appears in the open list', async () => {
    const other = await otherSession();
    const id = await rows().nth(5).getAttribute('data-id');
    await new Promise((r) => setTimeout(r, 500));  // the list's long-poll is waiting
    const r = await other('PATCH', `/incidents/${id}`, { status: 'false_positive', comment: 'from elsewhere' });
    assert.equal(r.status, 200);
    await page.locator(`table.incidents tbody tr[data-id="${id}"] .badge.status-false_positive`).waitFor({ timeout: 8000 });
    assert.equal(await page.evaluate(() => location.hash), '#/incidents');  // no navigation: pushed
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

  await step('a subject match is shown in its context, the value masked', async () => {
    const back = await page.evaluate(() => location.hash);
    const id = await page.evaluate(async () => (await (await fetch('/api/v1/incidents?subject=kickoff&limit=1')).json()).items[0].id);
    await page.evaluate((to) => { location.hash = `#/incidents/${to}`; }, id);
    await page.locator('.contexts .context').first().waitFor();
    const text = await page.locator('.contexts .context').first().innerText();
    assert.match(text, /^project neptune kickoff notes #\d+$/i);
    assert.equal(await page.locator('.contexts mark.sample').first().innerText(), 'project neptune');
    await page.evaluate((to) => { location.hash = to; }, back);
    await page.locator(`h1:has-text("Incident #${openedId}")`).waitFor();
  });

  await step('a body match is shown in the context stored with the incident', async () => {
    const back = await page.evaluate(() => location.hash);
    const id = await page.evaluate(async () => (await (await fetch('/api/v1/incidents?policy=PCI%20card%20numbers&limit=1')).json()).items[0].id);
    await page.evaluate((to) => { location.hash = `#/incidents/${to}`; }, id);
    await page.locator(`h1:has-text("Incident #${id}")`).waitFor();
    const contexts = page.locator('.contexts .context');
    await contexts.first().waitFor();
    assert.equal(await contexts.count(), 3);
    assert.equal(await contexts.first().innerText(), '…please charge the card 4111********1111 for the March invoice…');
    assert.equal(await contexts.first().locator('mark.sample').innerText(), '4111********1111');
    // The admin's collapsed preview of the message, masked.
    assert.equal(await page.locator('details.content-preview').getAttribute('open'), null);
    await page.click('details.content-preview summary');
    assert.match(await page.locator('details.content-preview pre.preview').innerText(), /card 4111\*{8}1111 for/);
    await page.evaluate((to) => { location.hash = to; }, back);
    await page.locator(`h1:has-text("Incident #${openedId}")`).waitFor();
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
    assert.match(await page.locator('ol.history li').first().innerText(), /by admin/);
    await page.selectOption('select[name=assignee]', 'admin');
    await page.click('#assign-button');
    await page.locator('ol.history li', { hasText: 'Assigned to admin' }).waitFor();
    await page.setViewportSize({ width: 390, height: 900 });
    const { over, wide } = await page.evaluate(() => {
      const doc = document.documentElement;
      const wide = [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > doc.clientWidth + 1)
        .map((e) => `${e.tagName}.${e.className}`);
      return { over: doc.scrollWidth - doc.clientWidth, wide };
    });
    assert.ok(over <= 0, `the detail scrolls sideways at 390 px by ${over}px: ${wide.join(', ')}`);
    await page.screenshot({ path: path.join(shots, 'console-detail-390.png'), fullPage: true });
    await page.setViewportSize({ width: 1440, height: 900 });
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
    assert.deepEqual(cards, ['Incidents over time by severity', 'Last 24 hours by severity',
      'Messages: blocked, passed, bypassed', 'Top policies', 'Top senders', 'Top recipient domains',
      'Incidents by action']);
    const topPolicies = page.locator('.chart-card', { hasText: 'Top policies' });
    assert.ok(await topPolicies.locator('rect.bar').count() >= 4);
    // Seeded 1, 10 and 19 hours ago: three hours with one incident each.
    const hourly = page.locator('svg[aria-label^="Incidents per hour"] rect[data-severity]');
    assert.equal(await hourly.count(), 3);
    const domains = page.locator('.chart-card', { hasText: 'Top recipient domains' });
    assert.deepEqual(await domains.locator('text.label title').allTextContents(), ['partner.example', 'rival.example']);
    await page.screenshot({ path: path.join(shots, 'console-dashboard.png') });
  });

  await step('a chart bar opens the incidents it counts', async () => {
    const open = async (bar, expected) => {
      await bar.click();
      await poll(() => location.hash.startsWith('#/incidents?'));
      await rows().first().waitFor();
      await page.locator('.summary', { hasText: new RegExp(`of ${expected}$`) }).waitFor();
      await page.click('nav a[data-nav=dashboard]');
      await page.locator('.dashboard-view svg.chart').first().waitFor();
    };
    await open(page.locator('svg[aria-label^="Incidents per hour"] rect[data-severity]').first(), 1);
    const policyBar = page.locator('.chart-card', { hasText: 'Top policies' }).locator('rect.bar').first();
    const policyCount = Number((await policyBar.locator('title').textContent()).split(': ').pop());
    await open(policyBar, policyCount);
    await open(page.locator('.chart-card', { hasText: 'Top recipient domains' }).locator('rect.bar').nth(1), 8);
    await open(page.locator('.chart-card', { hasText: 'Top recipient domains' }).locator('rect.bar').first(), 36);
  });

  // A view at each width: nothing wider than the viewport, and a screenshot.
  const fits = async (name) => {
    for (const width of [1440, 1024, 768, 390]) {
      await page.setViewportSize({ width, height: 900 });
      const over = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(over <= 0, `${name} at ${width} px is ${over} px too wide`);
      await page.screenshot({ path: path.join(shots, `console-${name}-${width}.png`) });
    }
    await page.setViewportSize({ width: 1440, height: 900 });
  };

  await step('the queue view lists the gateway queue; an admin holds, releases and deletes', async () => {
    page.on('dialog', (d) => d.accept());
    await page.click('nav a[data-nav=queue]');
    const queueRows = page.locator('table.queue tbody tr');
    // Received by the gateway, kept queued since DLP never answers.
    for (let i = 0; i < 100 && await page.locator('table.queue tbody tr[data-state=deferred]').count() < 5; i++) {
      await page.waitForTimeout(200);
      await page.click('nav a[data-nav=dashboard]');
      await page.click('nav a[data-nav=queue]');
      await page.locator('.queue-view').waitFor();
    }
    assert.equal(await queueRows.count(), 5);
    const first = queueRows.first();
    const id = await first.getAttribute('data-id');
    assert.match(await first.innerText(), /sender0@corp\.example/);
    await first.locator('button[data-action=hold]').click();
    await page.locator(`table.queue tr[data-id="${id}"][data-state=hold]`).waitFor();
    await page.locator('.queue-message', { hasText: 'placed on hold' }).waitFor();
    await page.locator(`table.queue tr[data-id="${id}"] button[data-action=release]`).click();
    await page.locator(`table.queue tr[data-id="${id}"]:not([data-state=hold])`).waitFor();
    await page.locator(`table.queue tr[data-id="${id}"] button[data-action=delete]`).click();
    await page.locator('.queue-message', { hasText: `${id}: deleted` }).waitFor();
    assert.equal(await queueRows.count(), 4);
    await fits('queue');
  });

  await step('the server view shows roles, listeners and the DLP breaker', async () => {
    for (let i = 0; i < 100; i++) {
      await page.click('nav a[data-nav=server]');
      await page.locator('.server-view').waitFor();
      if (await page.locator('table.dlp-hosts .breaker-open').count() > 0) break;
      await page.waitForTimeout(200);
      await page.click('nav a[data-nav=queue]');
    }
    await page.locator('table.dlp-hosts .breaker-open').waitFor();
    const roles = await page.locator('.tile .roles').innerText();
    assert.ok(roles.includes('gateway') && roles.includes('console'), roles);
    const listeners = await page.locator('table.listeners').innerText();
    assert.match(listeners, /client/);
    assert.match(listeners, /resubmit/);
    assert.equal(await page.locator('.bypassed-total').innerText(), '0');
    await fits('server');
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

  await step('on the embedded default the Reload button is disabled and says why', async () => {
    // The real answer of this run, with the field the embedded default sets
    // (the API test runs the embedded default itself and checks that field).
    const reason = 'running on the embedded default: nothing to reload';
    await page.route('**/api/v1/policies', async (route) => {
      const response = await route.fetch();
      const json = await response.json();
      json.reload = { available: false, reason };
      await route.fulfill({ response, json });
    });
    await page.click('nav a[data-nav=incidents]');
    await rows().first().waitFor();
    await page.click('nav a[data-nav=policies]');
    await page.locator('.policies-view').waitFor();
    assert.equal(await page.locator('#reload-button').isDisabled(), true);
    assert.equal(await page.locator('#reload-button').getAttribute('title'), reason);
    assert.match(await page.locator('#reload-reason').innerText(), /Reload unavailable: running on the embedded default/);
    await page.unroute('**/api/v1/policies');
  });

  await step('an admin adds an analyst, who cannot reload or manage users', async () => {
    await page.click('nav a[data-nav=users]');
    await page.locator('.users-view').waitFor();
    await page.fill('input[name=new-name]', 'ann');
    await page.fill('input[name=new-password]', 'ann-password-123');
    await page.click('.new-user button[type=submit]');
    await page.locator('table.users tr[data-user=ann]').waitFor();
    assert.equal(await page.locator('table.users tr[data-user=ann] select').inputValue(), 'analyst');
    await page.screenshot({ path: path.join(shots, 'console-users.png') });
    const status = await page.evaluate(async () => {
      const login = await fetch('/api/v1/login', { method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: 'ann', password: 'ann-password-123' }), credentials: 'omit' });
      return login.status;
    });
    assert.equal(status, 200);
  });

  await step('signing out returns to the login form and the API refuses', async () => {
    await page.click('#logout-button');
    await page.locator('form.login-card').waitFor();
    const status = await page.evaluate(async () => (await fetch('/api/v1/incidents')).status);
    assert.equal(status, 401);
  });

  await step('an analyst sees no users view and no reload button', async () => {
    await page.fill('input[name=username]', 'ann');
    await page.fill('input[name=password]', 'ann-password-123');
    await page.click('button[type=submit]');
    await page.locator('#topbar:not([hidden])').waitFor();
    // Left on the users view by the admin: refused to an analyst.
    await page.locator('main .error', { hasText: 'admin role' }).waitFor();
    await page.click('nav a[data-nav=incidents]');
    await rows().first().waitFor();
    assert.equal(await page.locator('nav a[data-nav=users]').isVisible(), false);
    await page.click('nav a[data-nav=policies]');
    await page.locator('.policies-view').waitFor();
    assert.equal(await page.locator('#reload-button').isVisible(), false);
    // The queue, without its actions.
    await page.click('nav a[data-nav=queue]');
    await page.locator('table.queue tbody tr').first().waitFor();
    assert.equal(await page.locator('table.queue button').count(), 0);
    assert.equal(await page.locator('#flush-button').count(), 0);
    const hold = await page.evaluate(async () => {
      const id = document.querySelector('table.queue tbody tr').dataset.id;
      const session = await (await fetch('/api/v1/session')).json();
      return (await fetch(`/api/v1/queue/${id}/hold`, { method: 'POST', headers: { 'X-CSRF-Token': session.csrf_token } })).status;
    });
    assert.equal(hold, 403);
    const status = await page.evaluate(async () => (await fetch('/api/v1/users')).status);
    assert.equal(status, 403);
    await page.click('#logout-button');
    await page.locator('form.login-card').waitFor();
  });

  assert.deepEqual(offsite, [], 'requests left the console origin');
  // 401 after sign-out and the analyst's deliberate 403 are expected.
  assert.deepEqual(consoleErrors.filter((e) => !/401|Unauthorized|403|Forbidden/.test(e)), [], 'browser console errors');
} finally {
  await browser.close();
}
console.log('browser test passed');
