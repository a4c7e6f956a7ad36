// Steps a person takes on the page, shared by the end-to-end tests.
import type { Page } from 'playwright-core';
import { expect } from 'vitest';

export async function openApp(page: Page, baseURL: string, query = ''): Promise<void> {
  await page.goto(`${baseURL}/${query}`);
  await page.getByTestId('model-name').waitFor();
}

export async function pasteCorpus(page: Page, text: string): Promise<void> {
  await page.getByLabel('Paste text').check();
  await page.getByLabel('Corpus text').fill(text);
}

/** Presses Run and waits for the summary or an error; returns the summary's text. */
export async function runToEnd(page: Page, timeout = 240_000): Promise<string> {
  await page.getByRole('button', { name: 'Run' }).click();
  const summary = page.getByLabel('Run summary');
  const error = page.getByTestId('run-error');
  await summary.or(error).first().waitFor({ timeout });
  if (await error.count()) throw new Error(`run failed: ${await error.textContent()}`);
  return summary.innerText();
}

/** The measured max attention error the summary shows. */
export async function shownAttentionError(page: Page): Promise<number> {
  const text = (await page.getByTestId('attention-error').textContent()) ?? '';
  const match = text.match(/= ([\d.]+e[-+]\d+)/);
  if (!match) throw new Error(`no attention error in "${text}"`);
  return Number(match[1]);
}

/** Types a layer and head into "Go to head" and waits for the head view's title. */
export async function goToHead(page: Page, layer: number, head: number): Promise<void> {
  await page.getByLabel('Layer').fill(String(layer));
  await page.getByLabel('Head', { exact: true }).fill(String(head));
  await page.getByRole('button', { name: 'Go to head' }).click();
  await expect.poll(() => page.getByTestId('head-title').textContent()).toBe(`Head L${layer} H${head}`);
}

/** The projections' status line ("PCA 72/72 heads … · UMAP n/72 heads …"). */
export const projectionStatus = (page: Page) => page.getByTestId('projection-status').textContent();
