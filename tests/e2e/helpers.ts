// Steps a person takes on the page, shared by the end-to-end tests.
import type { Page } from 'playwright-core';
import { expect } from 'vitest';

export async function openApp(page: Page, baseURL: string, query = ''): Promise<void> {
  await page.goto(`${baseURL}/${query}`);
  await page.getByTestId('model-name').waitFor();
}

export async function useDefaultCorpus(page: Page): Promise<void> {
  await page.getByRole('radio', { name: 'Default', exact: true }).check();
}

/** Chooses "Paste" and pastes `text` into the box: one input event, as a paste is. */
export async function pasteCorpus(page: Page, text: string): Promise<void> {
  await page.getByRole('radio', { name: 'Paste', exact: true }).check();
  await page.getByLabel('Corpus text').evaluate((box: HTMLTextAreaElement, value) => {
    // React tracks the value it set; the native setter makes the change visible to it.
    Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value')!.set!.call(box, value);
    box.dispatchEvent(new Event('input', { bubbles: true }));
  }, text);
}

/** Waits until the corpus card shows the token count (counted in the corpus worker). */
export async function corpusCounted(page: Page, timeout = 60_000): Promise<string> {
  const tokens = page.getByTestId('corpus-tokens');
  await page.locator('[data-testid="corpus-tokens"][data-counted="yes"]').waitFor({ timeout });
  return (await tokens.textContent()) ?? '';
}

const summary = (page: Page) => page.getByLabel('Run summary');

/** The number of the result on screen (each result shown on a page gets the next one), or null. */
export async function resultId(page: Page): Promise<string | null> {
  return (await summary(page).count()) ? summary(page).getAttribute('data-result-id') : null;
}

/** Presses Run and waits for a new result or an error; returns the summary's text. */
export async function runToEnd(page: Page, timeout = 240_000): Promise<string> {
  const before = await resultId(page);
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await page.waitForFunction(
    (previous) => {
      const shown = document.querySelector('[aria-label="Run summary"]');
      return !!document.querySelector('[data-testid="run-error"]') || (!!shown && shown.getAttribute('data-result-id') !== previous);
    },
    before,
    { timeout, polling: 100 },
  );
  const error = page.getByTestId('run-error');
  if (await error.count()) throw new Error(`run failed: ${await error.textContent()}`);
  return summary(page).innerText();
}

/** The measured max attention error the summary shows. */
export async function shownAttentionError(page: Page): Promise<number> {
  const text = (await page.getByTestId('attention-error').textContent()) ?? '';
  const match = text.match(/([\d.]+e[-+]\d+)/);
  if (!match) throw new Error(`no attention error in "${text}"`);
  return Number(match[1]);
}

/** Types a layer and head into "Go to head" and waits for the head view's title. */
export async function goToHead(page: Page, layer: number, head: number): Promise<void> {
  await page.getByRole('spinbutton', { name: 'Layer' }).fill(String(layer));
  await page.getByRole('spinbutton', { name: 'Head', exact: true }).fill(String(head));
  await page.getByRole('button', { name: 'Go to head' }).click();
  await expect.poll(() => page.getByTestId('head-title').textContent()).toBe(`Head L${layer} H${head}`);
}

/** The projections' status line ("PCA 72/72 heads … · UMAP n/72 heads …"). */
export const projectionStatus = (page: Page) => page.getByTestId('projection-status').textContent();

/** Opens the toolbar's Export menu (once) so its actions can be clicked. */
export async function openExportMenu(page: Page): Promise<void> {
  if (await page.getByRole('group', { name: 'Export' }).count()) return;
  await page.getByRole('button', { name: 'Export ▾' }).click();
}
