// The one place that picks the device: Auto never takes a software (fallback) WebGPU adapter
// and says why it used WASM; an explicit WebGPU choice takes it; without WebGPU both fall back.
import { afterEach, describe, expect, it } from 'vitest';
import { type AdapterInfo, type OrtModule, devicePlan, isSoftwareAdapter, openModel } from '../../../lib/engine/runtime';

/** An onnxruntime stand-in that records which execution provider each session asked for. */
function fakeOrt(opened: string[]): OrtModule {
  return {
    InferenceSession: {
      create: async (_model, options) => {
        opened.push(String(options?.executionProviders?.[0]));
        return { release: async () => {} } as never;
      },
    },
    Tensor: class {} as never,
    env: { wasm: {} },
  };
}

function withAdapter(info: AdapterInfo | null) {
  Object.defineProperty(globalThis, 'navigator', {
    value: { gpu: { requestAdapter: async () => (info ? { info } : null) }, hardwareConcurrency: 2 },
    configurable: true,
  });
}

const SWIFTSHADER: AdapterInfo = { vendor: 'google', architecture: 'swiftshader', device: '', description: '', isFallbackAdapter: true };
const REAL_GPU: AdapterInfo = { vendor: 'nvidia', architecture: 'hopper', device: '', description: '', isFallbackAdapter: false };

afterEach(() => {
  Object.defineProperty(globalThis, 'navigator', { value: undefined, configurable: true });
});

describe('device choice', () => {
  it('knows a software adapter by the browser’s flag or by its name', () => {
    expect(isSoftwareAdapter(SWIFTSHADER)).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'mesa', architecture: 'llvmpipe' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'google', architecture: 'swiftshader' })).toBe(true);
    expect(isSoftwareAdapter(REAL_GPU)).toBe(false);
  });

  it('on Auto uses WASM instead of a software adapter, and says why', async () => {
    withAdapter(SWIFTSHADER);
    const opened: string[] = [];
    const plan = devicePlan('auto');
    const runner = await openModel(fakeOrt(opened), new Uint8Array(1), plan.candidates, { allowSoftwareAdapter: plan.allowSoftwareAdapter });
    expect(opened).toEqual(['wasm']);
    expect(runner.report.device).toBe('wasm');
    expect(runner.report.fallback).toMatch(/WebGPU adapter is a software renderer \(google swiftshader\), slower than WASM/);
  });

  it('takes the software adapter when WebGPU is chosen, and a hardware one on Auto', async () => {
    withAdapter(SWIFTSHADER);
    let opened: string[] = [];
    const chosen = devicePlan('webgpu');
    const runner = await openModel(fakeOrt(opened), new Uint8Array(1), chosen.candidates, { allowSoftwareAdapter: chosen.allowSoftwareAdapter });
    expect(opened).toEqual(['webgpu']);
    expect(runner.report).toMatchObject({ device: 'webgpu', adapter: 'google swiftshader', fallback: undefined });

    withAdapter(REAL_GPU);
    opened = [];
    const auto = devicePlan('auto');
    expect((await openModel(fakeOrt(opened), new Uint8Array(1), auto.candidates, { allowSoftwareAdapter: auto.allowSoftwareAdapter })).report.device).toBe(
      'webgpu',
    );
  });

  it('falls back to WASM without an adapter, and skips WebGPU altogether for WASM', async () => {
    withAdapter(null);
    const opened: string[] = [];
    const auto = devicePlan('auto');
    const runner = await openModel(fakeOrt(opened), new Uint8Array(1), auto.candidates);
    expect(runner.report).toMatchObject({ device: 'wasm', fallback: 'no WebGPU adapter is available' });
    expect(devicePlan('wasm').candidates).toEqual(['wasm']);
  });
});
