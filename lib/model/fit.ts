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

/** Output heads QKViz never runs (logits): not counted. */
export const UNUSED_TENSORS = /(^|\.)(lm_head|embed_out)\.weight$/;

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

/** The precision a model opens in unless a person chooses: float32 when small, else float16, else 4-bit; null when none fits. */
export function defaultFormat(fits: FormatFit[]): WeightFormat | null {
  const of = (f: WeightFormat) => fits.find((x) => x.format === f)!;
  if (of('float32').graphBytes <= EXACT_GRAPH_LIMIT) return 'float32';
  if (of('float16').graphBytes <= EXACT_GRAPH_LIMIT) return 'float16';
  if (of('int4').fits) return 'int4';
  return null;
}

/** One line for a precision: its size, the tab's memory, and the cost in exactness. */
export function describeFit(fit: FormatFit): string {
  const quality: Record<WeightFormat, string> = {
    float32: 'exact',
    float16: 'Q/K within about 1e-3 of float32',
    int8: 'Q/K within about 1% of float32',
    int4: 'Q/K within about 10% of float32',
  };
  return `${FORMAT_LABELS[fit.format]}: ${formatBytes(fit.graphBytes)} graph, about ${formatBytes(fit.peakBytes)} of tab memory while opening (${quality[fit.format]})${fit.fits ? '' : ' — does not fit a tab'}`;
}
