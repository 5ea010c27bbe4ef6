// Drives Debian's chromium through tributary's dashboard and prints what it saw as one JSON
// object; tests/dashboard.rs starts the agents and asserts on it. Usage:
//   node dashboard.js URL OUT_DIR CHILD_A CHILD_B FAKE_HOST ALARM_CHART ALARM_NAME
const { chromium } = require('playwright-core');
const fs = require('fs'), os = require('os'), path = require('path');

const [url, out, childA, childB, fake, alarmChart, alarmName] = process.argv.slice(2);
const seen = { steps: [] };
const T = 20000;

async function main() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-default-apps', '--disable-extensions'],
  });
  const shot = (page, name) => page.screenshot({ path: path.join(out, `${name}.png`) });
  try {
    const page = ctx.pages()[0] || await ctx.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    const requests = [];
    page.on('request', (r) => requests.push(r.url()));
    seen.offLoopback = [];
    page.on('request', (r) => { const u = new URL(r.url()); if (u.hostname !== '127.0.0.1') seen.offLoopback.push(r.url()); });

    // 1. the parent's page: the host menu lists every host with its state
    await page.goto(url + '/', { waitUntil: 'load', timeout: T });
    await page.waitForFunction((n) => document.querySelectorAll('#host-menu option').length >= n, 4, { timeout: T });
    seen.menu = await page.$$eval('#host-menu option', (os) => os.map((o) => ({ name: o.dataset.hostname, value: o.value, text: o.textContent })));
    seen.title = await page.title();
    await page.waitForFunction(() => window.tributary.loadMs !== null, null, { timeout: T });
    await shot(page, '1-parent');
    seen.steps.push('parent');

    // 2. switching host: the path becomes /host/NAME/ and that host's charts draw with data
    requests.length = 0;
    await page.selectOption('#host-menu', childA);
    await page.waitForFunction((h) => window.tributary.host === h && window.tributary.loadMs !== null, childA, { timeout: T });
    await page.waitForFunction(() => document.querySelector('[data-chart="system.cpu"] .legend .v') !== null, null, { timeout: T });
    seen.switched = await page.evaluate(() => ({
      path: location.pathname, hash: location.hash, charts: window.tributary.charts,
      withData: [...document.querySelectorAll('.chart')].filter((c) => [...c.querySelectorAll('.legend .v')].some((v) => v.textContent !== '—')).length,
      sections: [...document.querySelectorAll('h2.section')].map((h) => h.textContent),
      toc: document.querySelectorAll('#toc a').length,
      cpuLegend: [...document.querySelectorAll('[data-chart="system.cpu"] .legend .dim')].map((d) => d.textContent),
    }));
    seen.switchedDataRequests = requests.filter((u) => u.includes('/api/v1/data')).map((u) => new URL(u).pathname);
    seen.cpuQuery = Object.fromEntries(new URL(requests.find((u) => u.includes('/api/v1/data') && u.includes('chart=system.cpu&'))).searchParams);
    seen.cpuWidth = await page.evaluate(() => document.querySelector('[data-chart="system.cpu"] .plot').clientWidth);
    await shot(page, '2-child');
    // live: the same chart element gets new data, the page is not rebuilt
    await page.evaluate(() => { document.querySelector('[data-chart="system.cpu"]').dataset.mark = 'kept'; });
    const liveT0 = await page.textContent('[data-chart="system.cpu"] .legend-time');
    await page.waitForFunction((t) => document.querySelector('[data-chart="system.cpu"] .legend-time').textContent !== t, liveT0, { timeout: T });
    seen.live = { t0: liveT0, t1: await page.textContent('[data-chart="system.cpu"] .legend-time'),
      kept: await page.evaluate(() => document.querySelector('[data-chart="system.cpu"]').dataset.mark === 'kept') };
    // the value under the cursor: every visible chart's legend shows the same instant
    const cpu = await (await page.$('[data-chart="system.cpu"] canvas')).boundingBox();
    await page.mouse.move(cpu.x + cpu.width * 0.985, cpu.y + cpu.height / 2);
    // (a chart whose newest row is older than that instant shows — until its next update)
    await page.waitForFunction(() => [...document.querySelectorAll('.chart')].filter((c) => c.getBoundingClientRect().top < innerHeight
      && [...c.querySelectorAll('.legend .v')].some((v) => v.textContent !== '—')).length >= 2, null, { timeout: T });
    seen.hover = await page.$$eval('.chart', (cs) => cs.filter((c) => c.querySelector('.legend-time') && c.getBoundingClientRect().top < innerHeight).map((c) => c.querySelector('.legend-time').textContent));
    seen.hoverLegends = await page.$$eval('.chart', (cs) => cs.filter((c) => c.getBoundingClientRect().top < innerHeight).map((c) => c.querySelector('.legend').textContent));
    seen.hoverValues = await page.$$eval('.chart', (cs) => cs.filter((c) => c.getBoundingClientRect().top < innerHeight && [...c.querySelectorAll('.legend .v')].some((v) => v.textContent !== '—')).length);
    await page.mouse.move(0, 0);
    seen.steps.push('switch');

    // 3. pan by dragging a chart, then zoom with the header button: the URL's window changes
    const before = await page.evaluate(() => location.hash);
    const canvas = await page.$('[data-chart="system.cpu"] canvas');
    const box = await canvas.boundingBox();
    // dragging to the right brings earlier times into view
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2, { steps: 4 });
    await page.mouse.move(box.x + box.width * 0.7, box.y + box.height / 2, { steps: 4 });
    await page.mouse.up();
    await page.waitForFunction((h) => location.hash !== h, before, { timeout: T });
    const panned = await page.evaluate(() => location.hash);
    await page.click('#zoom-in');
    await page.waitForFunction((h) => location.hash !== h, panned, { timeout: T });
    const zoomed = await page.evaluate(() => location.hash);
    // keyboard: a focused chart pans with the arrow keys
    await page.focus('[data-chart="system.cpu"] .plot');
    await page.keyboard.press('ArrowLeft');
    await page.waitForFunction((h) => location.hash !== h, zoomed, { timeout: T });
    seen.keyboardPan = await page.evaluate(() => location.hash);
    await page.keyboard.press('ArrowRight');
    await page.waitForFunction((h) => location.hash === h, zoomed, { timeout: T });
    // every visible chart follows the window: its data covers it
    await page.waitForTimeout(500);
    seen.window = { before, panned, zoomed, label: await page.textContent('#window-label') };
    await shot(page, '3-panned-zoomed');
    // a shared link opens the same host and window
    const link = page.url();
    const page2 = await ctx.newPage();
    await page2.goto(link, { waitUntil: 'load', timeout: T });
    await page2.waitForFunction(() => window.tributary.loadMs !== null, null, { timeout: T });
    seen.sharedLink = await page2.evaluate(() => ({ host: window.tributary.host, hash: location.hash, label: document.getElementById('window-label').textContent }));
    await page2.close();
    seen.steps.push('panzoom');

    // 4. the alarm raised on the fake host: the header count, the panel, the chart's badge
    await page.click('#live');
    await page.selectOption('#host-menu', fake);
    await page.waitForFunction((h) => window.tributary.host === h && window.tributary.loadMs !== null, fake, { timeout: T });
    await page.waitForFunction(() => Number(document.getElementById('alarm-count').textContent) > 0, null, { timeout: T });
    await page.keyboard.press('a');
    await page.waitForFunction((n) => [...document.querySelectorAll('#alarms-active tbody tr')].some((r) => r.textContent.includes(n)), alarmName, { timeout: T });
    await page.waitForFunction((n) => [...document.querySelectorAll('#alarms-log tbody tr')].some((r) => r.textContent.includes(n)), alarmName, { timeout: T });
    await page.waitForFunction((c) => document.querySelector(`[data-chart="${c}"] .legend .v`) !== null, alarmChart, { timeout: T });
    seen.alarm = await page.evaluate(([c, n]) => ({
      count: document.getElementById('alarm-count').textContent,
      countClass: document.getElementById('alarm-count').className,
      rows: [...document.querySelectorAll('#alarms-active tbody tr')].map((r) => r.textContent),
      statusColour: getComputedStyle(document.querySelector('#alarms-active tbody td.st')).color,
      log: [...document.querySelectorAll('#alarms-log tbody tr')].map((r) => r.textContent).filter((t) => t.includes(n)),
      badge: (document.querySelector(`[data-chart="${c}"] .alarm-state`) || {}).textContent,
      chartClass: (document.querySelector(`[data-chart="${c}"]`) || {}).className,
    }), [alarmChart, alarmName]);
    await shot(page, '4-alarms');
    await page.keyboard.press('Escape');
    seen.alarmPanelClosed = await page.evaluate(() => document.getElementById('alarms-panel').hidden);
    seen.steps.push('alarm');

    // 5. load time with 500 charts: a fresh page on the fake host, measured in the browser
    const fresh = await ctx.newPage();
    const freshRequests = [];
    fresh.on('request', (r) => freshRequests.push(r.url()));
    await fresh.goto(`${url}/host/${encodeURIComponent(fake)}/`, { waitUntil: 'load', timeout: T });
    await fresh.waitForFunction(() => window.tributary.loadMs !== null, null, { timeout: T });
    const t0 = await fresh.evaluate(() => ({ loadMs: window.tributary.loadMs, charts: window.tributary.charts, requests: { ...window.tributary.requests } }));
    await fresh.waitForTimeout(3000);
    const t1 = await fresh.evaluate(() => ({ requests: { ...window.tributary.requests } }));
    const nav = await fresh.evaluate(() => performance.getEntriesByType('navigation')[0].toJSON());
    seen.load = {
      loadMs: t0.loadMs, charts: t0.charts, navigationMs: nav.duration,
      fetchedCharts: Object.keys(t1.requests).length,
      maxRequestsIn3s: Math.max(...Object.entries(t1.requests).map(([k, n]) => n - (t0.requests[k] || 0))),
      minRequestsIn3s: Math.min(...Object.entries(t1.requests).map(([k, n]) => n - (t0.requests[k] || 0))),
      dataRequests: freshRequests.filter((u) => u.includes('/api/v1/data')).length,
    };
    await shot(fresh, '5-500-charts');
    await fresh.close();
    seen.steps.push('load');

    // 6. the streaming tree
    await page.click('#view-streaming');
    await page.waitForFunction((hs) => hs.every((h) => document.querySelector(`#streaming .node[data-host="${h}"]`)), [childA, childB, fake], { timeout: T });
    // the next refresh (every 5 s) shows bytes/s
    await page.waitForFunction(() => [...document.querySelectorAll('#streaming .node .meta')].some((m) => /B\/s/.test(m.textContent)), null, { timeout: T });
    seen.streaming = await page.$$eval('#streaming .node[data-host]', (ns) => ns.map((n) => ({ host: n.dataset.host, cls: n.className, text: n.textContent,
      underProxy: !!(n.closest('ul') && n.closest('ul').parentElement.querySelector(':scope > .node.proxy')) })));
    seen.streamingHash = await page.evaluate(() => location.hash);
    await shot(page, '6-streaming');
    seen.steps.push('streaming');

    // 7. themes and a phone-width screen
    const bg = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const bg1 = await bg();
    await page.keyboard.press('t');
    const bg2 = await bg();
    await page.click('#view-charts');
    await shot(page, '7-theme-toggled');
    await page.setViewportSize({ width: 390, height: 800 });
    await page.waitForTimeout(300);
    // the system's preference decides until the toggle did: a fresh page in a dark-scheme browser
    const darkPage = await ctx.newPage();
    await darkPage.emulateMedia({ colorScheme: 'dark' });
    await darkPage.goto(url + '/', { waitUntil: 'load', timeout: T });
    await darkPage.evaluate(() => { localStorage.removeItem('tributary-theme'); });
    await darkPage.reload({ waitUntil: 'load', timeout: T });
    const bgDark = await darkPage.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await darkPage.emulateMedia({ colorScheme: 'light' });
    const bgLight = await darkPage.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await darkPage.close();
    seen.theme = { before: bg1, after: bg2, systemDark: bgDark, systemLight: bgLight };
    seen.phone = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, tocHidden: getComputedStyle(document.getElementById('toc')).display === 'none' }));
    await shot(page, '8-phone');
    // keyboard: Tab reaches the header controls
    await page.keyboard.press('Tab');
    seen.focus = await page.evaluate(() => document.activeElement && document.activeElement.id);
    seen.steps.push('theme');
    seen.errors = errors;
  } finally {
    await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

main().then(() => { console.log(JSON.stringify(seen)); }).catch((e) => {
  seen.error = String(e && e.stack || e);
  console.log(JSON.stringify(seen));
  process.exit(1);
});
