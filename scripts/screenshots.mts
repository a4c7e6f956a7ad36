// Regenerates the screenshots in docs/ from a running app (default model and corpus), as full
// windows of the explorer:
//   npm run serve &   then   npx tsx scripts/screenshots.mts [http://localhost:3000]
// Prints the draw calls per frame it read from the page for each view.
import { openBrowser } from '../tests/e2e/browser';
import { canvasPoint, findQueryDot } from '../tests/e2e/canvas';

const base = process.argv[2] ?? 'http://localhost:3000';
const { page, close } = await openBrowser({ viewport: { width: 1440, height: 900 } });
// tsx keeps function names with a helper the page does not have.
await page.addInitScript('window.__name = (f) => f');
const matrix = page.getByTestId('matrix-view');
const status = async () => (await page.getByTestId('projection-status').textContent()) ?? '';
const until = async (check: () => Promise<boolean>, ms = 300_000) => {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await page.waitForTimeout(300);
  }
};
const shot = async (name: string) => {
  await page.mouse.move(0, 450);
  await page.waitForTimeout(1500);
  await page.screenshot({ path: `docs/${name}.png` });
};
const drawCalls = async (what: string) =>
  console.log(
    `${what}: ${await matrix.getAttribute('data-draw-calls')} draw call(s) per frame, ${await matrix.getAttribute('data-uploads')} buffer uploads so far`,
  );
const goTo = async (layer: number, head: number) => {
  await page.getByRole('spinbutton', { name: 'Layer' }).fill(String(layer));
  await page.getByRole('spinbutton', { name: 'Head', exact: true }).fill(String(head));
  await page.getByRole('button', { name: 'Go to head' }).click();
  await page.waitForTimeout(2500);
};
const clickQuery = async (view = 'matrix-view') => {
  const dot = await findQueryDot(page, view);
  if (!dot) return;
  const at = await canvasPoint(page, dot, view);
  await page.mouse.click(at.x, at.y);
};

await page.goto(`${base}/?device=wasm`);
await page
  .getByTestId('welcome-estimate')
  .filter({ hasText: /^About/ })
  .waitFor({ timeout: 120_000 });
await shot('welcome');

await page.getByRole('button', { name: 'Run', exact: true }).click();
await until(async () => /PCA 72\/72/.test(await status()));
await shot('matrix-pca');
await drawCalls('matrix, PCA 3D');

await goTo(3, 7);
await clickQuery();
await shot('head-links');
await drawCalls('head view with links');

await page.getByRole('radio', { name: 'UMAP' }).check();
await until(async () => (await page.getByText('layout of L3 H7 is being computed').count()) === 0);
await page.getByLabel('Colour by').selectOption({ label: 'Position in sentence' });
await page.getByRole('button', { name: 'Clear selection' }).click();
await page.getByLabel('Search tokens').fill('the');
await shot('head-umap-search');
await drawCalls('head view, UMAP, search');

await page.getByLabel('Search tokens').fill('');
await page.getByLabel('Colour by').selectOption('kind');
await page.getByRole('radio', { name: 'PCA' }).check();
await page.getByRole('radio', { name: 'Paper' }).check();
await page.getByLabel('Compare').selectOption('normalization');
await until(async () => (await page.getByText('layout of L3 H7 is being computed').count()) === 0);
await clickQuery('matrix-view-2');
await shot('compare-raw-paper');
await drawCalls('compare, left pane');

await page.getByLabel('Compare').selectOption('off');
await page.getByRole('radio', { name: 'Optimized' }).check();
await page.getByRole('button', { name: 'Back to matrix' }).click();
await page.getByLabel('Cell colour').selectOption('specialShare');
await page.getByRole('button', { name: 'Heads table' }).click();
await page
  .getByTestId('head-figures')
  .getByRole('button', { name: /^\[CLS\]\/\[SEP\] share/ })
  .click();
await shot('matrix-overlay-table');
await drawCalls('matrix with cell overlay');
await close();
process.exit(0);
