// Opens the dashboard and waits until the host menu shows HOST as stale; prints the menu as JSON.
//   node host_menu.js URL OUT_DIR HOST
const { chromium } = require('playwright-core');
const fs = require('fs'), os = require('os'), path = require('path');

const [url, out, host] = process.argv.slice(2);
const seen = {};

async function main() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run'],
  });
  try {
    const page = ctx.pages()[0] || await ctx.newPage();
    await page.goto(url + '/', { waitUntil: 'load', timeout: 20000 });
    await page.waitForFunction((h) => [...document.querySelectorAll('#host-menu option')].some((o) => o.dataset.hostname === h && o.textContent.includes('stale')), host, { timeout: 20000 });
    seen.menu = await page.$$eval('#host-menu option', (os) => os.map((o) => ({ name: o.dataset.hostname, text: o.textContent })));
    await page.click('#view-streaming');
    await page.waitForSelector(`#streaming .node.stale[data-host="${host}"]`, { timeout: 20000 });
    seen.node = await page.textContent(`#streaming .node.stale[data-host="${host}"]`);
    await page.screenshot({ path: path.join(out, '9-stale-child.png') });
  } finally {
    await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

main().then(() => console.log(JSON.stringify(seen))).catch((e) => {
  seen.error = String(e && e.stack || e);
  console.log(JSON.stringify(seen));
  process.exit(1);
});
