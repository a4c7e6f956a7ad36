#!/usr/bin/env node
// Builds the notebook widget (qkviz.show): widget/index.tsx and the page's explorer it mounts,
// bundled by esbuild into one ES module (anywidget's _esm) and one stylesheet (_css), written to
// python/qkviz/static/ where the pip package ships them. Everything the explorer needs travels
// inside the module: each worker is bundled on its own and started from a Blob URL of its code,
// the WebAssembly kernels are inlined already (lib/wasm), and the model and corpus workers, which
// need onnxruntime and a model to run, are replaced (a bundle is viewed with no model run).
//
//   node widget/build.mjs           writes python/qkviz/static/widget.{js,css}
//   node widget/build.mjs --check   exits 1 when those files differ from a fresh build
import * as esbuild from 'esbuild';
import { readFileSync, mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT_DIR = join(ROOT, 'python/qkviz/static');
/** The class of the widget's root element: every rule of the page's stylesheet is scoped under it. */
const SCOPE = '.qkviz-widget';
/** Browsers the widget is made for (module workers on Blob URLs, WebGL2). */
const TARGET = ['chrome111', 'firefox114', 'safari16.4'];

/** Workers the widget starts instead of the page's: a bundle is scored without a model, and no corpus is counted. */
const WORKER_SUBSTITUTES = {
  'workers/model.worker.ts': 'widget/score.worker.ts',
  'workers/corpus.worker.ts': 'widget/stub.worker.ts',
};
/** Packages that must never reach the widget (they are megabytes, and need files the widget cannot fetch). */
const FORBIDDEN = /^(onnxruntime-web|onnxruntime-node|onnxruntime-common|@huggingface\/transformers)(\/|$)/;

const WORKER_EXPRESSION = /new Worker\(\s*new URL\(\s*(['"])([^'"]+)\1\s*,\s*import\.meta\.url\s*\)/g;
const WORKER_NAMESPACE = 'qkviz-worker';

/** Bundled worker code, by entry path (one build each, whoever starts it). */
const workerCode = new Map();

const common = {
  bundle: true,
  format: 'esm',
  minify: true,
  legalComments: 'none',
  target: TARGET,
  platform: 'browser',
  write: false,
  logLevel: 'silent',
  absWorkingDir: ROOT,
  tsconfig: join(ROOT, 'tsconfig.json'),
  define: { 'process.env.NODE_ENV': '"production"' },
  charset: 'utf8',
};

/**
 * `new Worker(new URL('./x.worker.ts', import.meta.url), …)` becomes a Worker on a Blob URL of
 * x.worker.ts bundled by itself (module workers on Blob URLs run in every current browser);
 * forbidden packages fail the build; package.json gives the widget its version only.
 */
const widgetPlugin = {
  name: 'qkviz-widget',
  setup(build) {
    build.onResolve({ filter: FORBIDDEN }, (args) =>
      // Loaded on demand by code the widget never reaches (a model run): that import fails with a reason.
      args.kind === 'dynamic-import'
        ? { path: args.path, namespace: 'qkviz-absent' }
        : { errors: [{ text: `${args.path} must not be bundled into the widget (imported by ${relative(ROOT, args.importer)})` }] },
    );
    build.onLoad({ filter: /.*/, namespace: 'qkviz-absent' }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`${args.path} is not part of the notebook widget: it shows a bundle with no model run`)});`,
      loader: 'js',
    }));
    build.onLoad({ filter: /[\\/]package\.json$/ }, (args) => {
      if (resolve(args.path) !== join(ROOT, 'package.json')) return undefined;
      const { name, version } = JSON.parse(readFileSync(args.path, 'utf8'));
      return { contents: JSON.stringify({ name, version }), loader: 'json' };
    });
    build.onLoad({ filter: /\.tsx?$/, namespace: 'file' }, (args) => {
      if (args.path.includes('node_modules')) return undefined;
      const source = readFileSync(args.path, 'utf8');
      if (!source.includes('new Worker(')) return undefined;
      const imports = [];
      const contents = source.replace(WORKER_EXPRESSION, (_, _q, spec) => {
        const entry = resolve(dirname(args.path), spec);
        const name = `__qkvizWorker${imports.length}`;
        imports.push(`import ${name} from ${JSON.stringify(`${WORKER_NAMESPACE}:${relative(ROOT, entry)}`)};`);
        return `new Worker(__qkvizWorkerUrl(${name})`;
      });
      if (!imports.length) return undefined;
      const helper = `import { workerUrl as __qkvizWorkerUrl } from ${JSON.stringify(join(ROOT, 'widget/workerUrl.ts'))};`;
      return { contents: `${helper}\n${imports.join('\n')}\n${contents}`, loader: args.path.endsWith('x') ? 'tsx' : 'ts', resolveDir: dirname(args.path) };
    });
    build.onResolve({ filter: new RegExp(`^${WORKER_NAMESPACE}:`) }, (args) => ({
      path: args.path.slice(WORKER_NAMESPACE.length + 1),
      namespace: WORKER_NAMESPACE,
    }));
    build.onLoad({ filter: /.*/, namespace: WORKER_NAMESPACE }, async (args) => {
      const entry = WORKER_SUBSTITUTES[args.path.replaceAll('\\', '/')] ?? args.path;
      if (!workerCode.has(entry)) workerCode.set(entry, bundleWorker(entry));
      const code = await workerCode.get(entry);
      return { contents: `export default ${JSON.stringify(code)};`, loader: 'js' };
    });
  },
};

async function bundleWorker(entry) {
  const result = await esbuild.build({ ...common, entryPoints: [join(ROOT, entry)], plugins: [widgetPlugin] });
  return result.outputFiles[0].text;
}

/** The page's stylesheet with every rule under SCOPE (:root and html/body become the widget's root), then the widget's own. */
async function buildCss() {
  const page = readFileSync(join(ROOT, 'app/globals.css'), 'utf8')
    .replace(/:root\b/g, '&')
    .replace(/(^|\n)html,\s*body\s*\{/g, '$1& {');
  const widget = readFileSync(join(ROOT, 'widget/widget.css'), 'utf8');
  // Nesting is lowered by esbuild, so the output is plain selectors every browser reads.
  const result = await esbuild.transform(`${SCOPE} {\n${page}\n}\n${widget}`, {
    loader: 'css',
    minify: true,
    target: TARGET,
    legalComments: 'none',
    charset: 'utf8',
  });
  return result.code;
}

export async function buildWidget() {
  workerCode.clear();
  const js = await esbuild.build({ ...common, entryPoints: [join(ROOT, 'widget/index.tsx')], plugins: [widgetPlugin], jsx: 'automatic' });
  for (const w of js.warnings) console.warn(`widget build: ${w.text}`);
  return { 'widget.js': js.outputFiles[0].text, 'widget.css': await buildCss() };
}

async function main() {
  const check = process.argv.includes('--check');
  const files = await buildWidget();
  if (check) {
    const stale = Object.entries(files).filter(([name, text]) => {
      const path = join(OUT_DIR, name);
      return !existsSync(path) || readFileSync(path, 'utf8') !== text;
    });
    if (stale.length) {
      console.error(
        `python/qkviz/static is stale: ${stale.map(([n]) => n).join(', ')} differ${stale.length === 1 ? 's' : ''} from a fresh build. Run npm run build:widget and commit the result.`,
      );
      process.exit(1);
    }
    console.log('python/qkviz/static is up to date.');
    return;
  }
  mkdirSync(OUT_DIR, { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    writeFileSync(join(OUT_DIR, name), text);
    console.log(`${relative(ROOT, join(OUT_DIR, name))}: ${(Buffer.byteLength(text) / 1024).toFixed(0)} KiB`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(e.errors?.length ? e.errors.map((x) => `${x.location?.file ?? ''}:${x.location?.line ?? ''} ${x.text}`).join('\n') : e);
    process.exit(1);
  });
}
