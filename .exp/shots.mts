import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { openBrowser } from '../tests/e2e/browser.ts';
import { startHubServer, repoFromDir } from '../tests/helpers/hubServer.ts';
const F = '/work/main/tests/fixtures/hub/qkviz-test';
const hub = await startHubServer({
  'qkviz-test/tiny-llama': { files: repoFromDir(join(F, 'tiny-llama')) },
  'qkviz-test/slow': { files: repoFromDir(join(F, 'tiny-gpt2')) },
});
const next = spawn('node_modules/.bin/next', ['start', '-p', '3123', '-H', '127.0.0.1'], { stdio: 'ignore' });
await new Promise((r) => setTimeout(r, 4000));
const b = await openBrowser();
const p = b.page;
await p.goto('http://127.0.0.1:3123/');
await p.getByTestId('model-name').waitFor();
await p.getByRole('button', { name: 'Other models…' }).click();
await p.screenshot({ path: '.exp/picker-open.png' });
await p.getByText('Endpoint and access token').click();
await p.getByLabel('Endpoint').fill(hub.url);
await p.getByLabel('Hub id').fill('qkviz-test/tiny-llama');
await p.getByRole('button', { name: 'Look up' }).click();
await p.getByTestId('model-plan').waitFor();
await p.screenshot({ path: '.exp/picker-plan.png' });
await p.getByLabel('Hub id').fill('Qwen/Qwen2.5-0.5B');
await p.getByRole('button', { name: 'Look up' }).click();
await p.getByTestId('model-picker-error').waitFor();
await p.screenshot({ path: '.exp/picker-error.png' });
console.log(b.errors);
await b.close();
next.kill();
await hub.close();
