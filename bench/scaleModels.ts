// Where bench:scale keeps its random-weight checkpoints (scripts/make-scale-models.sh) and their conversions.
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
export const SCALE_MODELS = join(ROOT, '.cache', 'scale-models');
export const CONVERTED = join(ROOT, '.cache', 'scale-converted');
