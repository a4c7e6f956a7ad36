// qkviz.show in a notebook, as a person meets it: a bundle made by the CLI on the default model,
// a notebook whose cell is `qkviz.show("x.qkviz")` executed headless (nbclient: no error, a
// widget view in its output), then the same notebook in JupyterLab in Chromium — run, the
// explorer drawn in the cell (every head's cloud in the matrix), the run summary, a head flown
// into — with nothing fetched from outside the notebook server. The kernel imports qkviz from
// this checkout (python/ on PYTHONPATH), so what runs is the widget built into python/qkviz/static.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, openBrowser } from './browser';
import { canvasPixels, canvasPoint, cellPixels, difference, findQueryDot, matrixCells, settled } from './canvas';
import { defaultSentences } from '../helpers/extraction';
import { freePort } from './server';

const ROOT = resolve(__dirname, '..', '..');
const VENV = join(ROOT, '.cache', 'python-venv');
const PYTHON = join(VENV, 'bin', 'python');
const MODEL = join(ROOT, 'public', 'models', 'all-MiniLM-L6-v2');
const SCREENSHOT = join(ROOT, 'test-results', 'widget-jupyterlab.png');
// QKVIZ_DOCS_SCREENSHOTS=1 also refreshes the picture in docs/python.md.
const DOCS_SCREENSHOT = join(ROOT, 'docs', 'widget.png');
const CELL = 'import qkviz\nqkviz.show("x.qkviz")';
const WIDGET_VIEW = 'application/vnd.jupyter.widget-view+json';
/** README's notebook snippet, on a checkpoint that needs no network (a tiny random-weight Llama: 2 layers × 4 heads, 2 key heads). */
const TINY_LLAMA = join(ROOT, 'tests', 'fixtures', 'hub', 'qkviz-test', 'tiny-llama');
const CAPTURE_CELL = [
  'import qkviz',
  'from transformers import AutoModelForCausalLM, AutoTokenizer',
  `model = AutoModelForCausalLM.from_pretrained("${TINY_LLAMA}", attn_implementation="eager")`,
  `tokenizer = AutoTokenizer.from_pretrained("${TINY_LLAMA}")`,
  'run = qkviz.capture(model, tokenizer, ["The cat sat on the mat.", "Attention is all you need."])',
  'qkviz.show(run)',
].join('\n');

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'qkviz-widget-'));
const work = join(dir, 'notebooks');
const home = join(dir, 'home');

/** Jupyter's and the kernel's own folders, all in the test's temporary folder; qkviz from this checkout. */
const env: NodeJS.ProcessEnv = {
  ...process.env,
  HOME: home,
  PATH: `${join(VENV, 'bin')}:${process.env.PATH}`,
  PYTHONPATH: join(ROOT, 'python'),
  JUPYTER_CONFIG_DIR: join(dir, 'jupyter', 'config'),
  JUPYTER_DATA_DIR: join(dir, 'jupyter', 'data'),
  JUPYTER_RUNTIME_DIR: join(dir, 'jupyter', 'runtime'),
  JUPYTERLAB_SETTINGS_DIR: join(dir, 'jupyter', 'lab-settings'),
  JUPYTERLAB_WORKSPACES_DIR: join(dir, 'jupyter', 'lab-workspaces'),
  JUPYTER_PLATFORM_DIRS: '1',
  IPYTHONDIR: join(dir, 'ipython'),
  XDG_CONFIG_HOME: join(home, '.config'),
  XDG_CACHE_HOME: join(home, '.cache'),
  XDG_DATA_HOME: join(home, '.local', 'share'),
  XDG_RUNTIME_DIR: join(dir, 'xdg-runtime'),
  PYDEVD_DISABLE_FILE_VALIDATION: '1',
};

function notebook(source = CELL) {
  return {
    cells: [{ cell_type: 'code', execution_count: null, id: 'show', metadata: {}, outputs: [], source }],
    metadata: {
      kernelspec: { display_name: 'Python 3 (ipykernel)', language: 'python', name: 'python3' },
      language_info: { name: 'python' },
    },
    nbformat: 4,
    nbformat_minor: 5,
  };
}

/** Executes the notebook with nbclient and reports each output's mime types (and any error). */
const EXECUTE = `
import json, sys, nbformat
from nbclient import NotebookClient
path, out = sys.argv[1], sys.argv[2]
nb = nbformat.read(path, as_version=4)
NotebookClient(nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": sys.argv[3]}}).execute()
nbformat.write(nb, out)
outputs = [o for c in nb.cells for o in c.get("outputs", [])]
print(json.dumps({"outputs": [{"type": o["output_type"], "mimes": sorted(o.get("data", {}).keys())} for o in outputs]}))
`;

/** The bundle's own facts, read in Python: what the summary has to say. */
const FACTS = `
import json, sys, qkviz
r = qkviz.read_bundle(sys.argv[1])
print(json.dumps({"model": r.model, "tokens": r.token_count, "layers": r.layers, "heads": r.heads}))
`;

let lab: ChildProcess | undefined;
let labLog = '';
let labUrl = '';
let facts: { model: string; tokens: number; layers: number; heads: number };
let browser: Browser | undefined;

async function startLab(): Promise<void> {
  const port = await freePort();
  lab = spawn(
    join(VENV, 'bin', 'jupyter'),
    [
      'lab',
      '--no-browser',
      `--port=${port}`,
      '--ip=127.0.0.1',
      '--IdentityProvider.token=',
      '--ServerApp.password=',
      // Containers and CI run as root; elsewhere this changes nothing.
      '--allow-root',
      '--ServerApp.disable_check_xsrf=True',
      `--ServerApp.root_dir=${work}`,
      '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate',
    ],
    { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  lab.stdout!.on('data', (d) => (labLog += d));
  lab.stderr!.on('data', (d) => (labLog += d));
  labUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (lab.exitCode !== null) throw new Error(`jupyter lab exited with ${lab.exitCode}:\n${labLog}`);
    try {
      if ((await fetch(`${labUrl}/api/status`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`jupyter lab did not answer at ${labUrl} within 90 s:\n${labLog}`);
}

async function stopLab(): Promise<void> {
  if (!lab || lab.exitCode !== null) return;
  const exited = new Promise((r) => lab!.once('exit', r));
  lab.kill('SIGTERM');
  const timer = setTimeout(() => lab?.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

beforeAll(async () => {
  if (!existsSync(PYTHON)) throw new Error(`no Python venv at ${VENV}: npm test makes it (scripts/ensure.sh ensure_python_package)`);
  for (const d of [work, home, join(dir, 'jupyter', 'lab-settings', '@jupyterlab', 'apputils-extension')]) mkdirSync(d, { recursive: true });
  // No news or update checks (they would ask the internet, and put a notice over the notebook).
  writeFileSync(
    join(dir, 'jupyter', 'lab-settings', '@jupyterlab', 'apputils-extension', 'notification.jupyterlab-settings'),
    '{"fetchNews": "false", "checkForUpdates": false}',
  );
  writeFileSync(join(work, 'corpus.txt'), `${defaultSentences().slice(0, 12).join('\n')}\n`);
  await run(
    process.execPath,
    [join(ROOT, 'scripts', 'qkviz.mjs'), 'bundle', '--input', join(work, 'corpus.txt'), '--out', join(work, 'x.qkviz'), '--model', MODEL, '--quiet'],
    {
      cwd: ROOT,
    },
  );
  facts = JSON.parse((await run(PYTHON, ['-c', FACTS, join(work, 'x.qkviz')], { env })).stdout);
  writeFileSync(join(work, 'widget.ipynb'), JSON.stringify(notebook(), null, 1));
  writeFileSync(join(work, 'capture.ipynb'), JSON.stringify(notebook(CAPTURE_CELL), null, 1));
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await stopLab();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('qkviz.show in a notebook', () => {
  it('executes headless (nbclient): no error, a widget view in the cell output', async () => {
    const started = Date.now();
    const { stdout } = await run(PYTHON, ['-c', EXECUTE, join(work, 'widget.ipynb'), join(dir, 'executed.ipynb'), work], { env, maxBuffer: 64 * 1024 ** 2 });
    const { outputs } = JSON.parse(stdout.trim().split('\n').pop()!) as { outputs: { type: string; mimes: string[] }[] };
    expect(outputs.map((o) => o.type)).not.toContain('error');
    expect(
      outputs.some((o) => o.mimes.includes(WIDGET_VIEW)),
      `outputs: ${JSON.stringify(outputs)}`,
    ).toBe(true);
    console.log(`nbclient executed the notebook in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }, 240_000);

  it('refuses what is not a bundle, with a reason', async () => {
    const check = `
import qkviz
for bad in (b"not a bundle", "missing.qkviz", 42):
    try:
        qkviz.show(bad)
    except (ValueError, FileNotFoundError, TypeError) as e:
        print(type(e).__name__, e)
    else:
        raise SystemExit(f"qkviz.show accepted {bad!r}")
r = qkviz.read_bundle("x.qkviz")
w = qkviz.show(r, height=500)
assert w.height == 500 and w.name == "x.qkviz" and len(w.bundle) > 0, w
class Captured:  # what a capture offers: save(path) writes a bundle
    model = "captured"
    def save(self, path):
        open(path, "wb").write(open("x.qkviz", "rb").read())
w = qkviz.show(Captured())
assert w.name == "captured.qkviz" and w.bundle == open("x.qkviz", "rb").read()
print("shown:", w)
`;
    const { stdout } = await run(PYTHON, ['-c', check], { env, cwd: work });
    expect(stdout).toMatch(/ValueError .*not a QKViz bundle/);
    expect(stdout).toMatch(/FileNotFoundError No bundle at missing\.qkviz/);
    expect(stdout).toMatch(/TypeError qkviz\.show takes/);
    expect(stdout).toMatch(/shown: <qkviz\.QKVizWidget captured\.qkviz: [\d,]+ bytes>/);
  }, 60_000);

  it('shows the explorer in JupyterLab: every head drawn, the run summary, a head flown into', async () => {
    const started = Date.now();
    await startLab();
    browser = await openBrowser({ viewport: { width: 1600, height: 1000 }, webgpu: false });
    const { page, errors, requests } = browser;
    // The notebook's kernel is started first (a session, as opening it would start one), so
    // JupyterLab connects to it rather than asking which kernel to start while its list loads.
    const session = await fetch(`${labUrl}/api/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ path: 'widget.ipynb', name: 'widget.ipynb', type: 'notebook', kernel: { name: 'python3' } }),
    });
    expect(session.ok, `starting the kernel: HTTP ${session.status} ${await session.text()}`).toBe(true);
    await page.goto(`${labUrl}/lab/tree/widget.ipynb`);
    await page.locator('.jp-Notebook .jp-Cell').first().waitFor({ timeout: 120_000 });
    await page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]').first().waitFor({ timeout: 120_000 });
    // Should JupyterLab ask for a kernel all the same, the notebook's own is chosen.
    const kernelDialog = page.locator('.jp-Dialog').filter({ hasText: 'Select Kernel' });
    const answerKernelDialog = async () => {
      if (await kernelDialog.isVisible()) await kernelDialog.getByRole('button', { name: 'Select', exact: true }).click();
    };
    await page.waitForTimeout(1000);
    await answerKernelDialog();
    await page.getByRole('menuitem', { name: 'Run', exact: true }).click();
    await page.getByRole('menuitem', { name: /^Run All Cells/ }).click();

    const widget = page.locator('.jp-OutputArea-output .qkviz-widget');
    try {
      const canvas = widget.locator('[data-testid="matrix-view"] canvas');
      const deadline = Date.now() + 120_000;
      while (!(await canvas.isVisible())) {
        if (Date.now() > deadline) throw new Error('the explorer did not appear in the cell within 120 s');
        await answerKernelDialog();
        await page.waitForTimeout(250);
      }
    } catch (e) {
      await page.screenshot({ path: join(ROOT, 'test-results', 'widget-jupyterlab-failed.png') });
      throw new Error(`${(e as Error).message}\npage errors: ${errors.join('\n')}\nJupyterLab log (end):\n${labLog.slice(-4000)}`);
    }
    console.log(`JupyterLab showed the explorer ${((Date.now() - started) / 1000).toFixed(1)} s after it started`);

    // The run summary says what the bundle holds.
    const formatInt = (n: number) => n.toLocaleString('en-US');
    await expect.poll(() => widget.getByTestId('widget-summary').textContent(), { timeout: 30_000 }).toContain(facts.model);
    const summary = (await widget.getByTestId('widget-summary').textContent())!;
    expect(summary).toContain(`${formatInt(facts.tokens)} tokens`);
    expect(summary).toContain(`${facts.layers} layers × ${facts.heads} heads`);
    await expect.poll(() => widget.getByTestId('summary-size').textContent()).toContain(`${formatInt(facts.tokens)} tokens`);
    expect(await widget.getByTestId('result-source').textContent()).toMatch(/from bundle x\.qkviz .*no model ran here/);

    // Every head's cloud is drawn in its cell: query and key pixels in each.
    await settled(page);
    const cells = await cellPixels(page, facts.layers, facts.heads);
    expect(cells).toHaveLength(facts.layers * facts.heads);
    const empty = cells.filter((c) => c.query < 5 || c.key < 5).map((c) => c.label);
    expect(empty, `cells with no cloud drawn: ${empty.join(', ')}`).toEqual([]);
    await page.screenshot({ path: SCREENSHOT });
    if (process.env.QKVIZ_DOCS_SCREENSHOTS) copyFileSync(SCREENSHOT, DOCS_SCREENSHOT);

    // The widget sits in the notebook's output, inside the cell's width and the height show() gave it.
    const box = (await widget.boundingBox())!;
    const output = (await page.locator('.jp-OutputArea-output').first().boundingBox())!;
    expect(box.height).toBeGreaterThan(600);
    expect(box.height).toBeLessThan(700);
    expect(box.x).toBeGreaterThanOrEqual(output.x - 1);
    expect(box.x + box.width).toBeLessThanOrEqual(output.x + output.width + 1);

    // Clicking a head flies into it: its title, and a different picture.
    const before = (await canvasPixels(page))[0].signature;
    const target = (await matrixCells(page, facts.layers, facts.heads)).find((c) => c.label === 'L2 H3')!;
    const canvasBox = (await widget.locator('[data-testid="matrix-view"] canvas').boundingBox())!;
    await page.mouse.click(canvasBox.x + target.centre.x, canvasBox.y + target.centre.y);
    await expect.poll(() => widget.getByTestId('head-title').textContent(), { timeout: 30_000 }).toBe('Head L2 H3');
    await settled(page);
    const after = await canvasPixels(page);
    expect(difference(before, after[0].signature)).toBeGreaterThan(0.05);
    expect(after[0].query + after[0].key).toBeGreaterThan(100);

    // Clicking a query selects its sentence: the attention links are drawn (link yellow) and the sentence view opens.
    const dot = (await findQueryDot(page))!;
    expect(dot, 'a query dot in the head view').not.toBeNull();
    const at = await canvasPoint(page, dot);
    await page.mouse.click(at.x, at.y);
    await widget.getByTestId('selection').waitFor({ timeout: 30_000 });
    await expect.poll(async () => (await canvasPixels(page))[0].link, { timeout: 30_000 }).toBeGreaterThan(20);
    await page.screenshot({ path: join(ROOT, 'test-results', 'widget-jupyterlab-head.png') });

    // Keys in the explorer are its own: B (JupyterLab's "insert a cell below") adds no cell; Esc
    // clears the selection, then goes back to the matrix.
    const cellCount = () => page.locator('.jp-Notebook .jp-Cell').count();
    expect(await cellCount()).toBe(1);
    await widget.focus();
    await page.keyboard.press('b');
    await page.keyboard.press('Escape');
    await page.keyboard.press('Escape');
    await expect.poll(() => widget.getByTestId('head-title').count(), { timeout: 30_000 }).toBe(0);
    expect(await cellCount()).toBe(1);

    // The explorer did not touch the notebook's address, and nothing came from outside the notebook server.
    expect(page.url()).toBe(`${labUrl}/lab/tree/widget.ipynb`);
    const outside = requests.filter((u) => !u.startsWith(labUrl) && !u.startsWith('blob:') && !u.startsWith('data:'));
    expect(outside).toEqual([]);
    const widgetErrors = errors.filter((e) => /qkviz|worker|anywidget|WebGL|widget/i.test(e));
    expect(widgetErrors).toEqual([]);
    console.log(`the explorer in JupyterLab: checked ${((Date.now() - started) / 1000).toFixed(1)} s after JupyterLab started`);
  }, 300_000);

  it("shows a PyTorch model's capture (README's snippet): its heads drawn, its figures scored in the cell", async () => {
    expect(browser, 'JupyterLab runs (the test before)').toBeDefined();
    const { page, errors } = browser!;
    const session = await fetch(`${labUrl}/api/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ path: 'capture.ipynb', name: 'capture.ipynb', type: 'notebook', kernel: { name: 'python3' } }),
    });
    expect(session.ok).toBe(true);
    await page.goto(`${labUrl}/lab/tree/capture.ipynb`);
    await page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]').first().waitFor({ timeout: 120_000 });
    await page.waitForTimeout(1000);
    const kernelDialog = page.locator('.jp-Dialog').filter({ hasText: 'Select Kernel' });
    if (await kernelDialog.isVisible()) await kernelDialog.getByRole('button', { name: 'Select', exact: true }).click();
    await page.getByRole('menuitem', { name: 'Run', exact: true }).click();
    await page.getByRole('menuitem', { name: /^Run All Cells/ }).click();
    const widget = page.locator('.jp-OutputArea-output .qkviz-widget');
    await widget.locator('[data-testid="matrix-view"] canvas').waitFor({ timeout: 180_000 });
    await expect.poll(() => widget.getByTestId('summary-size').textContent(), { timeout: 30_000 }).toMatch(/tokens · 2 sentences · 8 heads/);
    expect(await widget.getByTestId('device-badge').textContent()).toContain('PyTorch cpu');
    // Captured in Python, the distance figures are scored here, by the widget's worker.
    await expect.poll(() => widget.getByTestId('scoring').textContent(), { timeout: 60_000 }).toBe('every head, every mode');
    expect(await widget.getByTestId('attention-error').textContent()).toMatch(/max error \d\.\d\de-\d+ ✓/);
    await settled(page);
    const cells = await cellPixels(page, 2, 4);
    expect(cells.filter((c) => c.query < 5 || c.key < 5).map((c) => c.label)).toEqual([]);
    expect(errors.filter((e) => /qkviz|worker|anywidget|WebGL|widget/i.test(e))).toEqual([]);
  }, 300_000);
});
