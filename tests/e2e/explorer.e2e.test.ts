// The explorer as a new user meets it: a full-window app whose canvas and controls stay on
// screen together at laptop and desktop sizes after every control change and after a fly-in
// from the heads table; Auto never picks the software WebGPU adapter; a refused corpus and a
// second run leave what is on screen alone; a reload comes back from the cache without running
// the model; 2D↔3D does not recompute; keys work wherever the keyboard is; a click during a
// camera flight opens the head that was under the pointer; a pasted corpus never freezes the page.
import { describe, expect, inject, it } from 'vitest';
import type { Page } from 'playwright-core';
import { type Browser, openBrowser } from './browser';
import { canvasPixels, canvasPoint, cloudExtent, findQueryDot, matrixCells, settled } from './canvas';
import { corpusCounted, goToHead, openApp, pasteCorpus, projectionStatus, resultId, runToEnd } from './helpers';
import { defaultSentences } from '../helpers/extraction';

const baseURL = inject('baseURL');
const CORPUS = defaultSentences().slice(40, 58).join('\n');
const OTHER = defaultSentences().slice(60, 70).join('\n');

/** Boxes of the canvas, the viewport and every control that changes the canvas, and whether the page scrolls. */
async function layout(page: Page) {
  return page.evaluate(() => {
    const box = (el: Element | null) => {
      if (!el) return null;
      const r = el.getBoundingClientRect();
      return { x: r.x, y: r.y, width: r.width, height: r.height };
    };
    const byName = (role: string, name: string) =>
      [...document.querySelectorAll(role === 'radio' ? 'input[type=radio]' : role)].find(
        (el) => (el.closest('label')?.textContent ?? el.getAttribute('aria-label') ?? '').trim() === name,
      ) ?? null;
    const controls: Record<string, Element | null> = {
      run: [...document.querySelectorAll('button')].find((b) => b.textContent === 'Run') ?? null,
      pca: byName('radio', 'PCA'),
      umap: byName('radio', 'UMAP'),
      dims2: byName('radio', '2D'),
      raw: byName('radio', 'Raw'),
      optimized: byName('radio', 'Optimized'),
      compare: document.getElementById('compare'),
      colour: document.getElementById('colour-by'),
      palette: byName('radio', 'Colour-blind'),
      cells: document.getElementById('cell-colour'),
      search: document.getElementById('search-tokens'),
      dots: document.getElementById('dot-size'),
      device: byName('radio', 'WASM'),
    };
    // A control counts as visible when its own box (its label's, for a radio) is what the
    // browser hits at its centre: on screen and not hidden behind something else.
    const visible = Object.fromEntries(
      Object.entries(controls).map(([k, el]) => {
        const target = el instanceof HTMLInputElement && el.type === 'radio' ? el.closest('label')! : el;
        const b = target?.getBoundingClientRect();
        if (!target || !b || b.width === 0) return [k, false];
        const hit = document.elementFromPoint(b.x + b.width / 2, b.y + b.height / 2);
        return [k, !!hit && (target === hit || target.contains(hit)) && b.y >= 0 && b.bottom <= innerHeight && b.x >= 0 && b.right <= innerWidth];
      }),
    );
    return {
      viewport: { width: innerWidth, height: innerHeight },
      // Every view's canvas together (two in compare mode); before any result, the stage that says what a run will draw.
      canvas: (() => {
        const boxes = [...document.querySelectorAll('.matrix-view canvas')].map((c) => c.getBoundingClientRect());
        if (!boxes.length) return box(document.querySelector('main.stage'));
        const x = Math.min(...boxes.map((b) => b.left));
        const y = Math.min(...boxes.map((b) => b.top));
        return { x, y, width: Math.max(...boxes.map((b) => b.right)) - x, height: Math.max(...boxes.map((b) => b.bottom)) - y };
      })(),
      pageScrolls: document.documentElement.scrollHeight > innerHeight + 1 || document.documentElement.scrollWidth > innerWidth + 1,
      visible,
    };
  });
}

function layoutProblems(l: Awaited<ReturnType<typeof layout>>): string[] {
  const c = l.canvas!;
  const share = (c.width * c.height) / (l.viewport.width * l.viewport.height);
  const problems: string[] = [];
  if (l.pageScrolls) problems.push('the page scrolls');
  if (!(c.x >= 0 && c.y >= 0 && c.x + c.width <= l.viewport.width + 0.5 && c.y + c.height <= l.viewport.height + 0.5))
    problems.push('the canvas is off screen');
  if (share < 0.5) problems.push(`the canvas covers ${(100 * share).toFixed(0)}% of the window`);
  for (const [control, shown] of Object.entries(l.visible)) if (!shown) problems.push(`control ${control} is not visible`);
  return problems;
}

/** The canvas covers most of the window, on screen with every control, without page scrolling (once the canvas has resized). */
async function expectExplorerLayout(page: Page, when: string): Promise<number> {
  let last: Awaited<ReturnType<typeof layout>> | null = null;
  await expect.poll(async () => layoutProblems((last = await layout(page))), { timeout: 5000, message: when }).toEqual([]);
  const c = last!.canvas!;
  return (c.width * c.height) / (last!.viewport.width * last!.viewport.height);
}

async function withBrowser<T>(options: Parameters<typeof openBrowser>[0], body: (b: Browser) => Promise<T>): Promise<T> {
  const b = await openBrowser(options);
  try {
    return await body(b);
  } finally {
    await b.close();
  }
}

const pcaDone = (page: Page) => expect.poll(() => projectionStatus(page), { timeout: 60_000 }).toMatch(/PCA 72\/72 heads/);

describe('the explorer', () => {
  for (const viewport of [
    { width: 1280, height: 720 },
    { width: 1920, height: 1080 },
  ]) {
    it(`keeps the canvas and every control on screen at ${viewport.width}×${viewport.height}, after each control change and a fly-in from the heads table`, async () => {
      await withBrowser({ viewport }, async ({ page, errors }) => {
        await openApp(page, baseURL, '?device=wasm');
        await expectExplorerLayout(page, 'before any run');
        await pasteCorpus(page, CORPUS);
        await expectExplorerLayout(page, 'with the paste box open');
        await runToEnd(page);
        await pcaDone(page);
        const shares = [await expectExplorerLayout(page, 'after the run')];
        const changes: [string, () => Promise<void>][] = [
          ['UMAP', () => page.getByRole('radio', { name: 'UMAP' }).check()],
          ['PCA', () => page.getByRole('radio', { name: 'PCA' }).check()],
          ['2D', () => page.getByRole('radio', { name: '2D' }).check()],
          ['3D', () => page.getByRole('radio', { name: '3D' }).check()],
          ['Paper', () => page.getByRole('radio', { name: 'Paper' }).check()],
          [
            'compare',
            () =>
              page
                .getByLabel('Compare')
                .selectOption('projection')
                .then(() => {}),
          ],
          [
            'compare off',
            () =>
              page
                .getByLabel('Compare')
                .selectOption('off')
                .then(() => {}),
          ],
          [
            'colour',
            () =>
              page
                .getByLabel('Colour by')
                .selectOption('position')
                .then(() => {}),
          ],
          ['palette', () => page.getByRole('radio', { name: 'Colour-blind' }).check()],
          [
            'cell colour',
            () =>
              page
                .getByLabel('Cell colour')
                .selectOption('entropy')
                .then(() => {}),
          ],
          ['search', () => page.getByLabel('Search tokens').fill('the')],
          [
            'dot size',
            () =>
              page
                .getByLabel('Dot size')
                .focus()
                .then(() => page.keyboard.press('ArrowRight')),
          ],
        ];
        for (const [name, change] of changes) {
          await change();
          shares.push(await expectExplorerLayout(page, `after ${name}`));
        }
        await page.getByLabel('Search tokens').fill('');
        await page.getByLabel('Colour by').selectOption('kind');
        await page.getByRole('radio', { name: 'Reference' }).check();

        // The heads table: sortable, a click flies into the head, which fills most of the canvas.
        await page.getByRole('button', { name: 'Heads table' }).click();
        const table = page.getByTestId('head-figures');
        await table.getByRole('button', { name: /^entropy/ }).click();
        const first = (await table.locator('tbody th').first().textContent())!;
        await table.getByRole('button', { name: first, exact: true }).click();
        await expect.poll(() => page.getByTestId('head-title').textContent()).toBe(`Head ${first}`);
        await settled(page);
        shares.push(await expectExplorerLayout(page, 'after a fly-in from the table'));
        const extent = await cloudExtent(page);
        console.log(
          `[qkviz] ${viewport.width}×${viewport.height}: canvas covers ${(100 * Math.min(...shares)).toFixed(0)}–${(100 * Math.max(...shares)).toFixed(0)}% of the window; ${first} fills ${(100 * extent.width).toFixed(0)}% × ${(100 * extent.height).toFixed(0)}% of it`,
        );
        expect(Math.max(extent.width, extent.height)).toBeGreaterThan(0.7);
        await page.screenshot({ path: `test-results/explorer-${viewport.width}x${viewport.height}.png` });
        expect(errors).toEqual([]);
      });
    });
  }

  it('on Auto never picks the software WebGPU adapter: WASM, and the page says why; the choice persists across reloads', async () => {
    await withBrowser({}, async ({ page }) => {
      await openApp(page, baseURL);
      expect(await page.getByRole('radio', { name: 'Auto' }).isChecked()).toBe(true);
      const ready = page.getByTestId('prepared-device');
      await expect
        .poll(() => ready.textContent(), { timeout: 120_000 })
        .toMatch(/WASM · \d+ threads? \(WebGPU adapter is a software renderer \(google swiftshader\), slower than WASM/);
      await pasteCorpus(page, 'The brown capybara is sleeping now.');
      await runToEnd(page);
      expect(await page.getByLabel('Run summary').getByTestId('device-badge').textContent()).toMatch(
        /^WASM · \d+ threads? \(WebGPU adapter is a software renderer/,
      );

      await page.getByRole('radio', { name: 'WASM' }).check();
      await expect.poll(() => page.url()).toContain('device=wasm');
      await page.goto(baseURL);
      await page.getByTestId('model-name').waitFor();
      expect(await page.getByRole('radio', { name: 'WASM' }).isChecked()).toBe(true);
    });
  });

  it('keeps the matrix through a refused corpus, reopens from the cache without running the model, and 2D↔3D recomputes nothing', async () => {
    await withBrowser({}, async ({ page, errors }) => {
      await openApp(page, baseURL, '?device=wasm');
      await pasteCorpus(page, CORPUS);
      await runToEnd(page);
      await pcaDone(page);
      await settled(page);
      const cells = async () => {
        const all = await matrixCells(page, 6, 12);
        return (
          await canvasPixels(
            page,
            all.map((c) => c.rect),
          )
        ).filter((p) => p.query > 10 && p.key > 10).length;
      };
      expect(await cells()).toBe(72);

      // A corpus this browser's storage cannot hold (it says it is nearly full): refused on the
      // corpus card with Run off; the matrix stays.
      const id = await resultId(page);
      await page.evaluate(() => {
        navigator.storage.estimate = async () => ({ quota: 300 * 1024 ** 2, usage: 100 * 1024 ** 2 });
      });
      const huge = Array.from({ length: 6000 }, (_, i) => `Line number ${i} has a handful of ordinary words in it.`).join('\n');
      await pasteCorpus(page, huge);
      await page.getByTestId('corpus-refusal').waitFor({ timeout: 120_000 });
      expect(await page.getByRole('button', { name: 'Run', exact: true }).isDisabled()).toBe(true);
      expect(await resultId(page)).toBe(id);
      await settled(page);
      expect(await cells()).toBe(72);

      // Reload: the run comes from the cache (no extraction appears), with every head drawn.
      await page.addInitScript(() => {
        const seen: string[] = [];
        (window as unknown as { qkvizSeen: string[] }).qkvizSeen = seen;
        new MutationObserver(() => {
          const p = document.querySelector('[data-testid="progress-text"]');
          if (p?.textContent) seen.push(p.textContent);
        }).observe(document, { childList: true, subtree: true, characterData: true });
      });
      await page.reload();
      await page.getByTestId('model-name').waitFor();
      await pcaDone(page);
      expect(await page.getByTestId('result-source').textContent()).toMatch(/from cache \(computed .*; the model did not run\)/);
      expect(await page.evaluate(() => (window as unknown as { qkvizSeen: string[] }).qkvizSeen)).toEqual([]);
      await settled(page);
      expect(await cells()).toBe(72);

      // 2D ↔ 3D twice: the second round computes nothing.
      const pcaComputed = async () => Number((await projectionStatus(page))!.match(/computed: PCA (\d+)/)![1]);
      await page.getByRole('radio', { name: '2D' }).check();
      await pcaDone(page);
      await page.getByRole('radio', { name: '3D' }).check();
      await pcaDone(page);
      const after = await pcaComputed();
      await page.getByRole('radio', { name: '2D' }).check();
      await pcaDone(page);
      await page.getByRole('radio', { name: '3D' }).check();
      await pcaDone(page);
      expect(await pcaComputed()).toBe(after);
      expect(errors).toEqual([]);
    });
  });

  it('says nothing about links after two runs in one tab, and keys work after Go to head', async () => {
    await withBrowser({}, async ({ page, errors }) => {
      await openApp(page, baseURL, '?device=wasm');
      await pasteCorpus(page, CORPUS);
      await runToEnd(page);
      await pasteCorpus(page, OTHER);
      await runToEnd(page);
      expect(await page.getByTestId('link-corpus-notice').count()).toBe(0);

      await goToHead(page, 2, 3);
      // The keyboard is on the Go button: arrows and Esc still drive the view.
      await page.keyboard.press('ArrowRight');
      await expect.poll(() => page.getByTestId('head-title').textContent()).toBe('Head L2 H4');
      await page.keyboard.press('ArrowDown');
      await expect.poll(() => page.getByTestId('head-title').textContent()).toBe('Head L3 H4');
      await page.keyboard.press('?');
      await page.getByRole('dialog', { name: 'Shortcuts' }).waitFor();
      await page.keyboard.press('Escape');
      expect(await page.getByRole('dialog', { name: 'Shortcuts' }).count()).toBe(0);
      await page.keyboard.press('Escape');
      await expect.poll(() => page.getByTestId('matrix-view').getAttribute('data-view')).toBe('matrix');
      expect(errors).toEqual([]);
    });
  });

  it('opens the head that was under the pointer when a click lands during a camera flight', async () => {
    await withBrowser({}, async ({ page }) => {
      await openApp(page, baseURL, '?device=wasm');
      await pasteCorpus(page, CORPUS);
      await runToEnd(page);
      await pcaDone(page);
      await goToHead(page, 0, 0);
      await settled(page);
      await page.keyboard.press('Escape');
      // Mid-flight back to the matrix: press on L4 H5 where this frame draws it, release later.
      const pressed = await page.evaluate(async () => {
        const view = document.querySelector('[data-testid="matrix-view"]') as HTMLElement;
        const canvas = view.querySelector('canvas')!;
        const frame = () => new Promise((r) => requestAnimationFrame(r));
        while (view.dataset.flying !== '1' || !view.querySelector('.cell-label')) await frame();
        await new Promise((r) => setTimeout(r, 120));
        const label = (text: string) => [...view.querySelectorAll('.cell-label')].find((l) => l.textContent === text)!.getBoundingClientRect();
        const [a, b, t] = [label('L0 H0'), label('L0 H1'), label('L4 H5')];
        const unit = (b.x - a.x) / 2.4;
        const at = { clientX: t.x + t.width / 2, clientY: t.y + t.height / 2 - 1.15 * unit, bubbles: true, pointerId: 1, isPrimary: true, button: 0 };
        const flying = view.dataset.flying;
        canvas.dispatchEvent(new PointerEvent('pointerdown', { ...at, buttons: 1 }));
        await new Promise((r) => setTimeout(r, 300));
        canvas.dispatchEvent(new PointerEvent('pointerup', { ...at, buttons: 0 }));
        return { flying, stillFlying: view.dataset.flying };
      });
      expect(pressed.flying).toBe('1');
      await expect.poll(() => page.getByTestId('head-title').textContent()).toBe('Head L4 H5');
    });
  });

  it('counts a pasted 70k-token corpus off the main thread, and a long unbreakable sentence stays inside its panel', async () => {
    await withBrowser({}, async ({ page }) => {
      await openApp(page, baseURL, '?device=wasm');
      await page.evaluate(() => {
        const w = window as unknown as { qkvizLongest: number };
        w.qkvizLongest = 0;
        new PerformanceObserver((list) => list.getEntries().forEach((e) => (w.qkvizLongest = Math.max(w.qkvizLongest, e.duration)))).observe({
          type: 'longtask',
          buffered: false,
        });
      });
      const big = Array.from({ length: 40 }, () => defaultSentences().join(' ').slice(0, 8000)).join('\n');
      await pasteCorpus(page, big);
      const counted = await corpusCounted(page, 180_000);
      const tokens = Number(counted.replace(/\D/g, ''));
      const longest = await page.evaluate(() => (window as unknown as { qkvizLongest: number }).qkvizLongest);
      console.log(`[qkviz] pasted ${tokens.toLocaleString('en-US')} tokens: longest main-thread task while counting ${longest.toFixed(0)} ms`);
      expect(tokens).toBeGreaterThan(60_000);
      // The page froze for 17.7 s counting such a corpus on the main thread; now it never stalls for long.
      expect(longest).toBeLessThan(2000);

      const word = 'Pneumonoultramicroscopicsilicovolcanoconiosis'.repeat(8);
      await pasteCorpus(page, `${word}\nA short sentence follows ${word}.`);
      await runToEnd(page);
      await pcaDone(page);
      await goToHead(page, 1, 1);
      await settled(page);
      const dot = (await findQueryDot(page))!;
      const at = await canvasPoint(page, dot);
      await page.mouse.click(at.x, at.y);
      await page.getByTestId('selection').waitFor();
      const overflow = await page.evaluate(() => {
        const panel = document.querySelector('aside[aria-label="Details"]')!;
        const title = document.querySelector('.sentence-title')!.getBoundingClientRect();
        const p = panel.getBoundingClientRect();
        return { panelScrolls: panel.scrollWidth > panel.clientWidth + 1, titleOutside: title.right > p.right + 1 };
      });
      expect(overflow).toEqual({ panelScrolls: false, titleOutside: false });
    });
  });
});
