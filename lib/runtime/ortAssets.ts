// onnxruntime-web fetches its .wasm at run time and transformers.js points it at a CDN
// by default. QKViz serves the files itself from /ort/ (copied there by the setup step),
// so nothing leaves the page's origin and it works offline. QKViz and transformers.js
// both import the "onnxruntime-web/webgpu" build, so they share this one env.
// Imported lazily: the module touches browser-only globals and must stay out of prerendering.

export const ORT_WASM_PATH = '/ort/';

export async function configureOrtWasm(): Promise<void> {
  const ort = await import('onnxruntime-web/webgpu');
  ort.env.wasm.wasmPaths = ORT_WASM_PATH;
}
