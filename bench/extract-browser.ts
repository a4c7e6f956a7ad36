// Browser benchmark: serves the built app, opens the /bench page in headless Chromium and
// prints what it measured (WASM backend).
//   npm run build && npm run bench:extract:browser
import { withApp } from './app';

const PORT = Number(process.env.BENCH_PORT ?? 3917);
const rounds = Number(process.env.ROUNDS ?? 3);

await withApp(PORT, async (page, base) => {
  await page.goto(`${base}/bench?rounds=${rounds}`);
  const out = page.getByTestId('bench-output');
  await out.filter({ hasNotText: 'running' }).waitFor({ timeout: 600_000 });
  console.log(await out.textContent());
});
