// qkviz.show(...) in a notebook: an anywidget front end (AFM: `export default { render }`, no
// JupyterLab API, so any frontend that runs anywidget shows it). The kernel sends the bundle's
// bytes as the `bundle` trait; they open through the page's own bundle path (openBundleFile), so
// the widget shows exactly what the page shows for that file. widget/build.mjs bundles this, with
// its workers inlined, into python/qkviz/static/widget.js.
import { createRoot } from 'react-dom/client';
import { openBundleFile } from '@/components/app/bundles';
import { followAddressBar, followView } from '@/components/app/result';
import { setKeyRoot } from '@/components/canvas/keys';
import { appStore } from '@/components/state/appStore';
import { setPanels } from '@/components/state/viewStore';
import { WidgetApp } from './WidgetApp';

/** The part of anywidget's model the widget uses (AFM). */
interface WidgetModel {
  get(name: 'bundle'): DataView | ArrayBuffer | null;
  get(name: 'name'): string;
  get(name: 'height'): number;
  on(event: string, callback: () => void): void;
  off(event: string, callback: () => void): void;
}

/** Below these widths of the widget's box a side panel starts closed, so the canvas keeps most of it. */
const DETAILS_MIN_WIDTH = 1000;
const CONTROLS_MIN_WIDTH = 720;

// Each widget instance imports its own copy of this module (anywidget loads _esm per model), so
// these module-level stores hold one bundle: views of one widget share it.
let views = 0;
let opened: unknown = null;

async function openFrom(model: WidgetModel): Promise<void> {
  const value = model.get('bundle');
  if (!value || value === opened) return;
  opened = value;
  const bytes = value instanceof DataView ? value : new DataView(value);
  const name = model.get('name') || 'bundle.qkviz';
  if (bytes.byteLength === 0) {
    appStore.setState({ loadError: 'This widget holds no bundle.' });
    return;
  }
  appStore.setState({ loadError: null });
  await openBundleFile(new File([bytes as DataView<ArrayBuffer>], name, { type: 'application/octet-stream' }));
  const { bundleStatus, shown } = appStore.getState();
  // Before anything is shown, the canvas says why the bundle could not be opened.
  if (bundleStatus?.kind === 'error' && !shown) appStore.setState({ loadError: bundleStatus.message });
}

function render({ model, el }: { model: WidgetModel; el: HTMLElement }): () => void {
  const root = document.createElement('div');
  root.className = 'qkviz-widget';
  root.style.height = `${Math.max(320, Number(model.get('height')) || 640)}px`;
  // Focusable, so keys go to the explorer after a click in it; JupyterLab leaves keys inside it alone.
  root.tabIndex = 0;
  root.setAttribute('data-lm-suppress-shortcuts', 'true');
  root.addEventListener('pointerdown', () => {
    if (!root.contains(document.activeElement)) root.focus({ preventScroll: true });
  });
  el.append(root);
  setKeyRoot(root);
  followAddressBar(false);
  followView();
  // The side panels as the box's width allows, once it has one (a frontend may attach the view later).
  const sized = new ResizeObserver(([entry]) => {
    const width = entry.contentRect.width;
    if (width <= 0) return;
    sized.disconnect();
    if (views === 1) setPanels({ left: width >= CONTROLS_MIN_WIDTH, right: width >= DETAILS_MIN_WIDTH });
  });
  sized.observe(root);
  const react = createRoot(root);
  react.render(<WidgetApp />);
  views += 1;

  const onHeight = () => (root.style.height = `${Math.max(320, Number(model.get('height')) || 640)}px`);
  const onBundle = () => void openFrom(model);
  model.on('change:height', onHeight);
  model.on('change:bundle', onBundle);
  void openFrom(model);

  return () => {
    sized.disconnect();
    model.off('change:height', onHeight);
    model.off('change:bundle', onBundle);
    react.unmount();
    root.remove();
    views -= 1;
    if (views === 0) {
      setKeyRoot(null);
      // The last view is gone: its projections stop (the bundle opens again if it is shown again).
      appStore.getState().projection?.scheduler.dispose();
      appStore.setState({ shown: null, projection: null });
      opened = null;
    }
  };
}

export default { render };
