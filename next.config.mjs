// Cross-origin isolation (COOP + COEP) lets onnxruntime-web use SharedArrayBuffer and so
// run its WASM backend on several threads. Everything the page loads is same-origin
// (model files, ORT wasm under /ort/), so require-corp costs nothing.
const isolationHeaders = [
  { key: 'Cross-Origin-Opener-Policy', value: 'same-origin' },
  { key: 'Cross-Origin-Embedder-Policy', value: 'require-corp' },
  { key: 'Cross-Origin-Resource-Policy', value: 'same-origin' },
];

/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // Packages only the Node side (CLI, tests) uses; keep them out of any server bundle.
  serverExternalPackages: ['onnxruntime-node', 'sharp'],
  async headers() {
    return [{ source: '/:path*', headers: isolationHeaders }];
  },
};

export default nextConfig;
