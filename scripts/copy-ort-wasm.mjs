// Copies onnxruntime-web's WASM binaries and their loader modules into public/ort/ so
// the app serves them itself (no CDN). Skips files that are already current.
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const from = join(root, 'node_modules', 'onnxruntime-web', 'dist');
const to = join(root, 'public', 'ort');

if (!existsSync(from)) {
  console.error('[setup-assets] node_modules/onnxruntime-web is missing: run `npm ci` first');
  process.exit(1);
}
mkdirSync(to, { recursive: true });
let copied = 0;
for (const file of readdirSync(from)) {
  if (!/^ort-wasm-simd-threaded.*\.(wasm|mjs)$/.test(file)) continue;
  const src = join(from, file);
  const dst = join(to, file);
  if (existsSync(dst) && statSync(dst).size === statSync(src).size && statSync(dst).mtimeMs >= statSync(src).mtimeMs) continue;
  copyFileSync(src, dst);
  copied++;
}
console.log(`[setup-assets] onnxruntime-web wasm in public/ort/ (${copied} file(s) updated)`);
