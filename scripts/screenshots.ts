// npm run screenshots: the status page's pictures in docs/ (overview, explain), from the demo config.
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseEnv } from '../src/config/env.js';
import { startServer } from '../src/server.js';
import { launch } from '../test/helpers/browser.js';

const docs = fileURLToPath(new URL('../docs/', import.meta.url));
const server = await startServer(parseEnv({ PORT: '0', ADMIN_PORT: '0', WATCH_CONFIG: 'false' }), {
  logDestination: new PassThrough(),
});
const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${server.adminUrl}/status`);
  await page.screenshot({ path: `${docs}status-overview.png`, fullPage: true });
  await page.goto(
    `${server.adminUrl}/status?host=fabrikam.example&user=ann%40fabrikam.example&family=Mac#explain`,
  );
  await page.locator('#explain').scrollIntoViewIfNeeded();
  await page.locator('#explain-result').screenshot({ path: `${docs}status-explain.png` });
  const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
  await phone.goto(`${server.adminUrl}/status`);
  await phone.screenshot({ path: `${docs}status-phone.png` });
  console.log('wrote docs/status-overview.png, docs/status-explain.png, docs/status-phone.png');
} finally {
  await browser.close();
  await server.shutdown();
}
