// When the canvas last drew a frame: work that would stall the page for a moment (the run's
// cache write, a structured clone on the main thread) waits until nobody is looking at motion.
let lastFrameAt = 0;

export function frameDrawn(now: number): void {
  lastFrameAt = now;
}

/** Resolves once no frame has been drawn for `quietMs` (checked every quarter of it), or after `maxMs`. */
export function canvasAtRest(quietMs: number, maxMs: number): Promise<void> {
  const started = performance.now();
  return new Promise((resolve) => {
    const check = () => {
      const now = performance.now();
      if (now - lastFrameAt >= quietMs || now - started >= maxMs) resolve();
      else setTimeout(check, quietMs / 4);
    };
    check();
  });
}
