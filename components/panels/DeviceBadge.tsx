// Names the device the model runs on, and why a preferred one was not used.
import type { DeviceReport } from '@/lib/engine/runtime';

const NAMES = { webgpu: 'WebGPU', wasm: 'WASM', cpu: 'CPU' } as const;

export function DeviceBadge({ device }: { device: DeviceReport }) {
  const threads = device.device === 'wasm' && device.threads ? ` · ${device.threads} thread${device.threads > 1 ? 's' : ''}` : '';
  return (
    <span className="device-badge" data-testid="device-badge" title={device.adapter ? `adapter: ${device.adapter}` : undefined}>
      <span className={`badge badge-${device.device}`}>
        {device.label ?? NAMES[device.device]}
        {threads}
      </span>
      {device.fallback && <span className="fallback"> ({device.fallback})</span>}
    </span>
  );
}
