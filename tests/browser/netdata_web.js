// Opens netdata's own dashboards (Debian's netdata-web, served by tributary from
// `[directories] web`) in Debian's chromium and prints what they drew as one JSON object;
// tests/dashboard.rs asserts on it. Requests to anything but 127.0.0.1 are aborted and listed.
//   node netdata_web.js URL OUT_DIR
const { chromium } = require('playwright-core');
const fs = require('fs'), os = require('os'), path = require('path');

const [url, out] = process.argv.slice(2);
const seen = { offLoopback: [] };
const T = 30000;

async function open(ctx, page, pathName) {
  const data = [];
  page.on('response', async (r) => {
    const u = new URL(r.url());
    if (u.pathname.endsWith('/api/v1/data') && r.status() === 200) {
      try { const j = await r.json(); data.push({ chart: u.searchParams.get('chart'), rows: (j.result && j.result.data || j.data || []).length }); } catch (e) { /* non-JSON formats */ }
    }
  });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url + pathName, { waitUntil: 'load', timeout: T });
  return { data, errors };
}

async function main() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-default-apps', '--disable-extensions'],
  });
  await ctx.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (u.hostname === '127.0.0.1') return route.continue();
    seen.offLoopback.push(u.origin);
    return route.abort();
  });
  try {
    // the old dashboard: dygraphs charts with legends
    const old = await ctx.newPage();
    const o = await open(ctx, old, '/old/');
    await old.waitForFunction(() => document.querySelectorAll('.netdata-chart canvas').length >= 3
      && [...document.querySelectorAll('.netdata-legend-value')].some((v) => /\d/.test(v.textContent)), null, { timeout: T });
    seen.old = await old.evaluate(() => ({
      title: document.title,
      charts: document.querySelectorAll('div[data-netdata]').length,
      canvases: document.querySelectorAll('.netdata-chart canvas').length,
      legendValues: [...document.querySelectorAll('.netdata-legend-value')].filter((v) => /\d/.test(v.textContent)).length,
      hasCpu: !!document.querySelector('div[data-netdata="system.cpu"]'),
    }));
    seen.old.dataResponses = o.data;
    seen.old.errors = o.errors;
    await old.screenshot({ path: path.join(out, 'netdata-old.png') });
    await old.close();
    // the new (React) dashboard at /
    const page = await ctx.newPage();
    const n = await open(ctx, page, '/');
    await page.waitForFunction(() => document.querySelectorAll('canvas').length >= 3, null, { timeout: T });
    await page.waitForTimeout(2000);
    seen.main = await page.evaluate(() => ({
      title: document.title,
      canvases: document.querySelectorAll('canvas').length,
      cpu: !!document.querySelector('[data-netdata="system.cpu"], [data-chart-id="system.cpu"], #chart_system_cpu'),
    }));
    seen.main.dataResponses = n.data;
    seen.main.errors = n.errors;
    await page.screenshot({ path: path.join(out, 'netdata-main.png') });
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
