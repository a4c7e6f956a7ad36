// three r183 deprecated THREE.Clock, which react-three-fiber 9 still creates for every canvas,
// so each canvas mount printed the same warning, which a QKViz user cannot act on. That one
// message is dropped; every other message three prints passes through unchanged.
import { setConsoleFunction } from 'three';

const CLOCK_DEPRECATION = 'Clock: This module has been deprecated';

setConsoleFunction((type: 'log' | 'warn' | 'error', message: string, ...params: unknown[]) => {
  if (typeof message === 'string' && message.includes(CLOCK_DEPRECATION)) return;
  console[type](message, ...params);
});
