// Regenerates the screenshots in docs/ from a running app (default model and corpus):
//   npm run serve &   then   npx tsx scripts/screenshots.mts [http://localhost:3000]
// Prints the draw calls per frame it read from the page for each view.
import { openBrowser } from '../tests/e2e/browser';
import { canvasPoint, findQueryDot } from '../tests/e2e/canvas';
import { openApp, runToEnd } from '../tests/e2e/helpers';

const base = process.argv[2] ?? 'http://localhost:3000';
const { page, close } = await openBrowser();
// tsx keeps function names with a helper the page does not have.
await page.addInitScript('window.__name = (f) => f');
const view = page.locator('.viewer');
const matrix = page.getByTestId('matrix-view');
const status = () => page.getByTestId('projection-status').textContent();
const until = async (check: () => Promise<boolean>, ms = 300_000) => {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await page.waitForTimeout(300);
  }
};
const drawCalls = async (what: string) => console.log(`${what}: ${await matrix.getAttribute('data-draw-calls')} draw call(s) per frame, ${await matrix.getAttribute('data-uploads')} buffer uploads so far`);

await openApp(page, base, '?device=wasm');
await runToEnd(page);
await until(async () => /PCA 72\/72/.test((await status()) ?? ''));
await matrix.scrollIntoViewIfNeeded();
await page.waitForTimeout(2000);
await view.screenshot({ path: 'docs/matrix-pca.png' });
await drawCalls('matrix, PCA 3D');

await page.getByLabel('Layer').fill('3');
await page.getByLabel('Head', { exact: true }).fill('7');
await page.getByRole('button', { name: 'Go to head' }).click();
await page.waitForTimeout(2500);
const dot = await findQueryDot(page);
if (dot) {
  const at = await canvasPoint(page, dot);
  await page.mouse.click(at.x, at.y);
}
await page.mouse.move(0, 0);
await page.waitForTimeout(2000);
await view.screenshot({ path: 'docs/head-links.png' });
await drawCalls('head view with links');

await page.getByRole('radio', { name: 'UMAP' }).check();
await until(async () => (await page.getByText('layout of L3 H7 is being computed').count()) === 0);
await page.getByLabel('Colour by').selectOption({ label: 'Position in sentence' });
await page.getByRole('button', { name: 'Clear selection' }).click();
await page.getByLabel('Search tokens').fill('the');
await page.waitForTimeout(2500);
await view.screenshot({ path: 'docs/head-umap-search.png' });
await drawCalls('head view, UMAP, search');
await page.getByLabel('Diagnostics').screenshot({ path: 'docs/diagnostics.png' });

await page.getByLabel('Search tokens').fill('');
await page.getByLabel('Colour by').selectOption('kind');
await page.getByRole('radio', { name: 'PCA' }).check();
await page.getByRole('combobox', { name: /^Vectors/ }).selectOption('paper');
await page.getByLabel('Compare').selectOption('normalization');
await until(async () => (await page.getByText('layout of L3 H7 is being computed').count()) === 0);
const dot2 = await findQueryDot(page, 'matrix-view-2');
if (dot2) {
  const at = await canvasPoint(page, dot2, 'matrix-view-2');
  await page.mouse.click(at.x, at.y);
}
await page.mouse.move(0, 0);
await page.waitForTimeout(2500);
await view.screenshot({ path: 'docs/compare-raw-paper.png' });
await drawCalls('compare, left pane');

await page.getByLabel('Compare').selectOption('off');
await page.getByRole('button', { name: 'Back to matrix' }).click();
await page.getByLabel('Cell colour').selectOption('specialShare');
await page.waitForTimeout(3000);
await view.screenshot({ path: 'docs/matrix-overlay.png' });
await drawCalls('matrix with cell overlay');
await close();
process.exit(0);
