// The model picker driven as a person does, against a local server with the hub's URL layout:
// point it at the server, look an id up, download and open, and check every cell is drawn.
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { cellPixels, settled } from './canvas';
import { projectionStatus } from './helpers';

const picker = (page: Page) => page.getByRole('region', { name: 'Model' });

/** Unfolds "Open another model" and its endpoint fields, and points them at the local hub. */
export async function pointPageAtHub(page: Page, hubUrl: string): Promise<void> {
  const section = picker(page);
  if (!(await section.getByLabel('Hub id').isVisible())) await section.getByRole('button', { name: 'Other models…' }).click();
  if (!(await section.getByLabel('Endpoint').isVisible())) await section.getByText('Endpoint and access token').click();
  await section.getByLabel('Endpoint').fill(hubUrl);
}

/** Types an id, looks it up and returns what the page says before any download (or its refusal). */
export async function lookUpModel(page: Page, hubUrl: string, id: string, token = ''): Promise<string> {
  await pointPageAtHub(page, hubUrl);
  const section = picker(page);
  await section.getByLabel('Token').fill(token);
  await section.getByLabel('Hub id').fill(id);
  await section.getByRole('button', { name: 'Look up' }).click();
  const answer = page.locator('[data-testid="model-plan"], [data-testid="model-picker-error"]');
  await answer.first().waitFor({ timeout: 30_000 });
  return (await answer.first().innerText()).replace(/\s+/g, ' ');
}

/** Downloads the looked-up model and waits until its run's summary is on screen. */
export async function downloadAndRun(page: Page, name: string, timeout = 240_000): Promise<string> {
  await picker(page).getByRole('button', { name: 'Download and open' }).click();
  await page.waitForFunction(
    (model) =>
      !!document.querySelector('[data-testid="run-error"], [data-testid="model-picker-error"]') ||
      (document.querySelector('[data-testid="model-name"]')?.textContent === model &&
        !!document.querySelector('[aria-label="Run summary"]') &&
        !document.querySelector('[aria-label="Run progress"]')),
    name,
    { timeout, polling: 200 },
  );
  const error = page.locator('[data-testid="run-error"], [data-testid="model-picker-error"]');
  if (await error.count()) throw new Error(`opening ${name} failed: ${await error.first().textContent()}`);
  await page.waitForFunction(() => /PCA \d+\/\d+ heads/.test(document.querySelector('[data-testid="projection-status"]')?.textContent ?? ''), null, {
    timeout: 60_000,
  });
  return page.getByLabel('Run summary').innerText();
}

/** Every head's cell shows points (a random head may hide one colour under the other), and both colours show. */
export async function everyCellDrawn(page: Page, layers: number, heads: number): Promise<void> {
  await expect.poll(() => projectionStatus(page), { timeout: 120_000 }).toMatch(new RegExp(`PCA ${layers * heads}/${layers * heads} heads`));
  await settled(page);
  const cells = await cellPixels(page, layers, heads);
  expect(cells).toHaveLength(layers * heads);
  const empty = cells.filter((c) => c.query + c.key < 10).map((c) => c.label);
  expect(empty, 'cells without points').toEqual([]);
  expect(cells.filter((c) => c.query > 2 && c.key > 2).length, 'cells with both colours').toBeGreaterThan(0.8 * cells.length);
}
