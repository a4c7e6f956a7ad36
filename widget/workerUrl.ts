// Worker code bundled into the widget (widget/build.mjs) starts from a Blob URL, made once per
// worker: the widget is one module from a notebook's kernel, with no server to fetch workers from.
const urls = new Map<string, string>();

export function workerUrl(code: string): string {
  let url = urls.get(code);
  if (!url) {
    url = URL.createObjectURL(new Blob([code], { type: 'text/javascript' }));
    urls.set(code, url);
  }
  return url;
}
