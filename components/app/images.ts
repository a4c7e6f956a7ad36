// Choosing an image corpus for a vision model: the default image set (public/images, fetched by
// the setup step) or images a person picks (files or a folder: PNG, JPEG, WebP), decoded to 8-bit
// RGB here — without colour management, as Pillow reads them — and handed to the model worker,
// which preprocesses them as the model's image processor does. The corpus card counts images
// and tokens at once (every image is the same number of tokens).
import { type DecodedImage } from '@/lib/corpus/images';
import { crc32 } from '@/lib/io/crc32';
import { corpusHash } from '@/lib/run/cacheKey';
import { corpusFacts } from '@/lib/run/plan';
import { runStore } from '@/lib/browser/runCache';
import { formatBytes } from '@/lib/util/format';
import { appStore } from '../state/appStore';

/** The default image set's folder and its index (written by the setup step). */
export const DEFAULT_IMAGES_URL = '/images/default/';
/** Decoded pixels the page holds at most (a 12-megapixel photo is 36 MB of RGB). */
const MAX_DECODED_BYTES = 1536 * 2 ** 20;
const IMAGE_TYPES = /\.(png|jpe?g|webp)$/i;

export interface ImageSet {
  label: string;
  images: DecodedImage[];
}

/** The images of the image corpus (held outside the store: large buffers). */
let imageSet: ImageSet | null = null;
export const currentImages = (): DecodedImage[] | undefined => imageSet?.images;

const set = appStore.setState;
const get = appStore.getState;

/** An image file's pixels as 8-bit RGB, as Pillow decodes it (no colour-space conversion, alpha dropped). */
export async function decodeImage(blob: Blob, name: string): Promise<DecodedImage> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch {
    throw new Error(`Cannot read ${name}: it is not an image this browser decodes (PNG, JPEG or WebP).`);
  }
  const { width, height } = bitmap;
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d', { colorSpace: 'srgb' })!;
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  const rgba = context.getImageData(0, 0, width, height).data;
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    rgb[j] = rgba[i];
    rgb[j + 1] = rgba[i + 1];
    rgb[j + 2] = rgba[i + 2];
  }
  return { name, width, height, rgb };
}

/** Decodes picked files (images only; others are skipped and said) into the image corpus. */
export async function loadImageFiles(files: File[], label: string): Promise<void> {
  const pictures = files.filter((f) => IMAGE_TYPES.test(f.name) || /^image\/(png|jpeg|webp)$/.test(f.type)).sort((a, b) => pathOf(a).localeCompare(pathOf(b)));
  const skipped = files.length - pictures.length;
  if (!pictures.length) {
    set({ imageStatus: { loading: false, error: `No PNG, JPEG or WebP image among the ${files.length} file(s) picked.` } });
    return;
  }
  await decodeAll(
    pictures.map((f) => ({ name: pathOf(f), blob: f as Blob })),
    label,
    skipped ? `${skipped} file(s) that are not images skipped` : null,
  );
}

const pathOf = (f: File) => (f as File & { webkitRelativePath?: string }).webkitRelativePath || f.name;

/** The default image set: its index, then each image. */
export async function loadDefaultImages(): Promise<void> {
  set({ imageStatus: { loading: true, error: null } });
  try {
    const res = await fetch(`${DEFAULT_IMAGES_URL}index.json`);
    if (!res.ok) throw new Error(`the default image set is missing (${res.status}): run \`npm run setup\``);
    const index = (await res.json()) as { images: { file: string }[] };
    const blobs = await Promise.all(
      index.images.map(async ({ file }) => {
        const r = await fetch(`${DEFAULT_IMAGES_URL}${file}`);
        if (!r.ok) throw new Error(`the default image ${file} is missing (${r.status}): run \`npm run setup\``);
        return { name: file, blob: await r.blob() };
      }),
    );
    await decodeAll(blobs, 'Default images', null);
  } catch (e) {
    set({ imageStatus: { loading: false, error: `Cannot load the default images: ${(e as Error).message}.` } });
  }
}

async function decodeAll(files: { name: string; blob: Blob }[], label: string, note: string | null): Promise<void> {
  set({ imageStatus: { loading: true, error: null } });
  const images: DecodedImage[] = [];
  let bytes = 0;
  try {
    for (const { name, blob } of files) {
      const image = await decodeImage(blob, name);
      bytes += image.rgb.byteLength;
      if (bytes > MAX_DECODED_BYTES)
        throw new Error(
          `${files.length} images decode to more than ${formatBytes(MAX_DECODED_BYTES)} of pixels (the tab holds them while the model reads them); pick fewer or smaller images`,
        );
      images.push(image);
    }
  } catch (e) {
    set({ imageStatus: { loading: false, error: (e as Error).message } });
    return;
  }
  imageSet = { label, images };
  set({ imageStatus: { loading: false, error: null, note } });
  await selectImages();
}

/** The image corpus as the corpus the page runs: its names as sentences, its hash over names and pixels. */
export async function selectImages(): Promise<void> {
  const manifest = get().manifest;
  if (!imageSet || !manifest?.image) return;
  const { label, images } = imageSet;
  const names = images.map((i) => i.name);
  set({ corpus: { label, sentences: names, blankLines: 0, rejected: 0, hash: null }, corpusProblem: null });
  countImages();
  const hash = await corpusHash(images.map((i) => `${i.name}\u0000${i.width}x${i.height}\u0000${crc32(i.rgb).toString(16)}`));
  const now = get().corpus;
  if (now && now.sentences === names) set({ corpus: { ...now, hash } });
}

/** Every image is the model's tokens per image: the facts follow at once. */
export function countImages(): void {
  const { corpus, manifest } = get();
  if (!corpus || !manifest?.image) return;
  const lengths = Int32Array.from(corpus.sentences, () => manifest.maxTokens);
  void runStore()
    .estimate()
    .catch(() => null)
    .then((space) => {
      if (get().corpus === corpus) set({ count: { status: 'done', lengths, facts: corpusFacts(lengths, manifest, { space, dtype: get().vectorDtype }) } });
    });
}

/** A vision model opened: its image corpus (the default set until a person picks images). */
export async function ensureImages(): Promise<void> {
  if (imageSet) await selectImages();
  else await loadDefaultImages();
}
