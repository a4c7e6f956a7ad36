// Downloads a converted model's ONNX file with byte progress and checks it against its
// manifest (size, SHA-256), so a truncated or corrupt file is named as such, not left to
// fail somewhere inside onnxruntime.
import { throwIfAborted } from '../util/cancel';
import { ModelFilesError } from './catalog';
import type { ModelManifest } from './manifest';

export async function fetchModelBytes(
  url: string,
  manifest: ModelManifest,
  onBytes: (done: number, total: number) => void,
  signal: AbortSignal,
): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url, { signal });
  } catch (e) {
    throwIfAborted(signal);
    throw new ModelFilesError(`could not download ${url}: ${(e as Error).message}`);
  }
  if (res.status === 404) throw new ModelFilesError(`${url} is missing: run \`npm run setup:model\``);
  if (!res.ok || !res.body) throw new ModelFilesError(`${url} could not be downloaded (HTTP ${res.status})`);
  const total = manifest.onnx.bytes;
  const bytes = new Uint8Array(total);
  const reader = res.body.getReader();
  let done = 0;
  for (;;) {
    const chunk = await reader.read();
    if (chunk.done) break;
    if (done + chunk.value.byteLength > total)
      throw new ModelFilesError(`${url} is larger than its manifest says (${total} bytes): convert it again with \`npm run setup:model -- --force\``);
    bytes.set(chunk.value, done);
    done += chunk.value.byteLength;
    onBytes(done, total);
  }
  if (done !== total) throw new ModelFilesError(`${url} is incomplete: ${done} of ${total} bytes. Convert it again with \`npm run setup:model -- --force\``);
  if (globalThis.crypto?.subtle) {
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
    const hex = Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
    if (hex !== manifest.onnx.sha256)
      throw new ModelFilesError(`${url} is corrupt (its SHA-256 does not match the manifest). Convert it again with \`npm run setup:model -- --force\``);
  }
  return bytes;
}
