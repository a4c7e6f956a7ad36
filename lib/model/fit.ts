// What a model costs in each weight precision, before anything is downloaded: the graph on
// disk, the tab's memory while onnxruntime opens it (it reads the weights into JavaScript,
// then copies them into its WebAssembly memory) and after, and whether a tab holds it at all
// (onnxruntime-web's memory is 4 GiB, activations included). The page picks the most
// precise precision that fits comfortably; a person may choose another that fits.
import { formatBytes } from '../util/format';
import { FORMAT_LABELS, WEIGHT_FORMATS, type WeightFormat, bytesPerEmbedding, bytesPerWeight } from './weights';

/** The most weight bytes a tab's onnxruntime holds with room for a batch's activations (WebAssembly memory is 4 GiB). */
export const TAB_GRAPH_LIMIT = 2.5 * 2 ** 30;
/** A graph this small opens in float32 by default (exact weights); larger ones in less precision. */
export const EXACT_GRAPH_LIMIT = 1.5 * 2 ** 30;
/** Room kept for a batch's activations and onnxruntime's own memory. */
export const ACTIVATION_ALLOWANCE = 512 * 2 ** 20;

export interface WeightCounts {
  /** Weights the graph uses (an untied output head is not used: QKViz reads queries and keys). */
  parameters: number;
  /** Of those, the token embedding table's (kept in 8 bits by the quantized precisions). */
  embedding: number;
}

export interface FormatFit {
  format: WeightFormat;
  /** The converted graph's weights on disk (and in onnxruntime's memory once opened). */
  graphBytes: number;
  /** The tab's peak while opening: the weights read into JavaScript, their copy in onnxruntime, activations. */
  peakBytes: number;
  fits: boolean;
  /** Why a tab cannot hold it, in words with numbers. */
  why?: string;
}

/** Tensors QKViz never runs, not counted: output heads (logits), and a CLIP checkpoint's text tower and projections beside the vision tower it reads. */
export const UNUSED_TENSORS = /(^|\.)(lm_head|embed_out)\.weight$|^text_model\.|^(text|visual)_projection\.|^logit_scale$/;

export function formatFits(counts: WeightCounts): FormatFit[] {
  const linear = Math.max(0, counts.parameters - counts.embedding);
  return WEIGHT_FORMATS.map((format) => {
    const graphBytes = Math.round(linear * bytesPerWeight(format) + counts.embedding * bytesPerEmbedding(format));
    const fits = graphBytes <= TAB_GRAPH_LIMIT;
    return {
      format,
      graphBytes,
      peakBytes: 2 * graphBytes + ACTIVATION_ALLOWANCE,
      fits,
      ...(fits
        ? {}
        : {
            why: `${FORMAT_LABELS[format]} weights take ${formatBytes(graphBytes)}, more than the ${formatBytes(TAB_GRAPH_LIMIT)} a tab's onnxruntime holds beside the activations (its memory is 4 GiB)`,
          }),
    };
  });
}

/**
 * The precision a model opens in unless a person chooses: the most exact whose graph is at
 * most EXACT_GRAPH_LIMIT (float32, float16, 8-bit), else 4-bit where it fits; null when none does.
 */
export function defaultFormat(fits: FormatFit[]): WeightFormat | null {
  for (const f of WEIGHT_FORMATS) if (f !== 'int4' && fits.find((x) => x.format === f)!.graphBytes <= EXACT_GRAPH_LIMIT) return f;
  return fits.find((x) => x.format === 'int4')!.fits ? 'int4' : null;
}

/**
 * How far each precision moves queries and keys from float32's (‖Δ‖ / ‖float32‖ over every
 * Q/K), measured by tests/lib/model/precision.test.ts on the tiny random checkpoints and by
 * bench:scale on random-weight models of real shapes: the range a person is told.
 */
export const QK_ERROR: Record<WeightFormat, string> = {
  float32: 'exact',
  float16: 'Q/K within about 0.1% of float32',
  int8: 'Q/K within about 1.5–3.5% of float32',
  int4: 'Q/K about 25–50% off float32',
};

/** One line for a precision: its size, the tab's memory, and the cost in exactness. */
export function describeFit(fit: FormatFit): string {
  return `${FORMAT_LABELS[fit.format]}: ${formatBytes(fit.graphBytes)} graph, about ${formatBytes(fit.peakBytes)} of tab memory while opening (${QK_ERROR[fit.format]})${fit.fits ? '' : ' — does not fit a tab'}`;
}
