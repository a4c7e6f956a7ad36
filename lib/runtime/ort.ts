// The one place that configures onnxruntime-web for QKViz's workers: its wasm is served by
// QKViz itself from /ort/ (copied there by the setup step; transformers.js would otherwise
// point it at a CDN), and it logs errors only — its warnings otherwise reach the console as
// ANSI-coloured errors. Sessions get the same severity (ORT_LOG_SEVERITY, in runtime.ts).

export const ORT_WASM_PATH = '/ort/';

/** The part of onnxruntime-web's module this configures. */
interface OrtWebEnv {
  env: { logLevel?: string; wasm: { wasmPaths?: unknown } };
}

export async function configureOrtWeb(ort: OrtWebEnv): Promise<void> {
  ort.env.wasm.wasmPaths = ORT_WASM_PATH;
  // transformers.js resets ORT's log level to 'warning' when it is first imported (and uses
  // wasmPaths as set above): import it first, then set ours.
  await import('@huggingface/transformers');
  ort.env.logLevel = 'error';
}
