import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // components/ imports lib/ as '@/lib/…' (tsconfig paths).
  resolve: { alias: { '@': resolve(import.meta.dirname) } },
  test: {
    include: ['tests/**/*.test.ts'],
    exclude: ['tests/e2e/**', 'node_modules/**'],
    // Real-model tests load a 90 MB graph and run float64 reference passes.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
