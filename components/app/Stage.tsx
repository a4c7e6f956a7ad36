'use client';
// The canvas area, which takes the window: one view (or two linked ones in compare mode) of
// the shown result with its toolbar, legend and projection status on top; before any result,
// what a run will show and how long it will take here.
import { useMemo, useRef } from 'react';
import type { RunResult } from '@/lib/run/types';
import { encodeNpy } from '@/lib/io/npy';
import { headFiguresCsv } from '@/lib/views/headFigures';
import { writeViewState } from '@/lib/views/urlState';
import { CameraLink } from '../canvas/cameraLink';
import { QKView } from '../canvas/QKView';
import { matrixShape } from '../canvas/geometry';
import type { LayoutStore, LayoutView } from '../projection/LayoutStore';
import type { ProjectionScheduler } from '../projection/ProjectionScheduler';
import { useApp } from '../state/appStore';
import { setPanels, useView, viewStore } from '../state/viewStore';
import { ExportMenu } from '../views/ExportMenu';
import { HeadNavigator } from '../views/HeadNavigator';
import { Legend } from '../views/Legend';
import { MODE_SHORT } from '../views/modes';
import { ArrivingNotice, ProjectionStatus, WaitingNotice } from '../views/ProjectionStatus';
import { sampleOrderOf, useViewData } from '../views/useViewData';
import { linkState, shownViews } from './result';
import { Welcome } from './Welcome';
import { setHeadMap, useHeadMap } from './headMap';
import { dismissBundleStatus, saveBundle } from './bundles';
import { HeadMap } from '../views/HeadMap';

/** The layouts the canvas shows now (one pane, or the two of a compare mode). */
function useShownViews(): LayoutView[] {
  const mode = useView((s) => s.mode);
  const method = useView((s) => s.method);
  const dims = useView((s) => s.dims);
  const compare = useView((s) => s.compare);
  return useMemo(() => shownViews({ mode, method, dims, compare }), [mode, method, dims, compare]);
}

function captionOf(v: LayoutView): string {
  return `${v.method.toUpperCase()} · ${MODE_SHORT[v.mode]}`;
}

function ResultStage({ result, layouts, scheduler, hash }: { result: RunResult; layouts: LayoutStore; scheduler: ProjectionScheduler; hash: string }) {
  const { data, analysis } = result;
  const mode = useView((s) => s.mode);
  const method = useView((s) => s.method);
  const dims = useView((s) => s.dims);
  const compare = useView((s) => s.compare);
  const overlay = useView((s) => s.overlay);
  const focus = useView((s) => s.focus);
  const tableOpen = useView((s) => s.panels.table);
  const mapOpen = useHeadMap((s) => s.open);
  const hudOn = useView((s) => s.panels.hud);
  const views = useShownViews();
  const shape = useMemo(() => matrixShape(data.layers, data.heads, data.tokenCount), [data]);
  const cameraLink = useMemo(() => new CameraLink(), []);
  const d = useViewData(result);
  const dotSize = useView((s) => s.dotSize);
  const look = useMemo(
    () => ({
      pointState: d.pointState,
      ramps: d.ramps,
      links: d.links,
      cellColours: d.overlayData?.colours ?? null,
      thumbs: d.atlas ?? null,
      thumbSize: 8 + 5 * dotSize,
    }),
    [d.pointState, d.ramps, d.links, d.overlayData, d.atlas, dotSize],
  );
  const panesRef = useRef<HTMLDivElement>(null);
  const captions = views.map(captionOf);
  const normsFor = (v: LayoutView) => (v.mode === mode ? d.modeNorms : d.rawNorms);

  const total = data.layers * data.heads;
  const main = views[views.length - 1];
  const shareUrl = () => {
    const v = viewStore.getState();
    const params = writeViewState(new URLSearchParams(window.location.search), { ...linkState(v), corpus: hash, camera: cameraLink.pose ?? undefined });
    return `${window.location.origin}${window.location.pathname}?${params}`;
  };
  const coordsReady = () => layouts.count(main) === total;
  // The picture is of the head in view; the coordinates are always every head's.
  const baseName = `qkviz-${focus ? `L${focus.layer}H${focus.head}-` : ''}${method}-${dims}d-${mode}`;
  const allHeadsName = `qkviz-${method}-${dims}d-${mode}`;

  return (
    <>
      <div className="toolbar" role="toolbar" aria-label="View">
        <HeadNavigator layers={data.layers} heads={data.heads} />
        <div className="toolbar-group">
          <button
            type="button"
            className={`tool${mapOpen ? ' on' : ''}`}
            aria-pressed={mapOpen}
            onClick={() => setHeadMap({ open: !mapOpen })}
            title="Head map: every head as one point, similar heads together"
            aria-label="Head map"
          >
            Map
          </button>
          <button
            type="button"
            className={`tool${tableOpen ? ' on' : ''}`}
            aria-pressed={tableOpen}
            onClick={() => setPanels({ table: !tableOpen })}
            title="Every head’s figures, sortable (T)"
            aria-label="Heads table"
          >
            Table
          </button>
          <ExportMenu
            root={panesRef}
            baseName={baseName}
            coordsName={allHeadsName}
            figuresCsv={() => headFiguresCsv(analysis)}
            coords={async () => {
              if (!coordsReady()) return null;
              // Every head in full: a large run's are read or recomputed (all asked for at once), each copied in as it comes.
              const P = 2 * data.tokenCount;
              const out = new Float32Array(data.layers * data.heads * P * dims);
              await scheduler.eachFullLayout(main, (cell, coords) => out.set(coords, cell * P * dims));
              return encodeNpy(out, [data.layers, data.heads, P, dims]);
            }}
            coordsPending={() => (coordsReady() ? null : `Waiting for every head’s ${method.toUpperCase()} layout (${layouts.count(main)}/${total}).`)}
            shareUrl={shareUrl}
            saveBundle={saveBundle}
          />
          <button
            type="button"
            className={`tool${hudOn ? ' on' : ''}`}
            aria-pressed={hudOn}
            onClick={() => setPanels({ hud: !hudOn })}
            title="Frame time and points drawn (F)"
            aria-label="Frame time"
          >
            fps
          </button>
          <button type="button" className="tool" onClick={() => setPanels({ help: true })} title="Keyboard and mouse (?)" aria-label="Shortcuts">
            ?
          </button>
        </div>
      </div>
      <div className={`panes panes-${views.length}`} ref={panesRef}>
        {views.map((view, i) => (
          <QKView
            key={i}
            testId={i === 0 ? 'matrix-view' : `matrix-view-${i + 1}`}
            caption={views.length > 1 ? captions[i] : undefined}
            shape={shape}
            layouts={layouts}
            view={view}
            allViews={views}
            look={{ ...look, norms: normsFor(view)?.scaled ?? null }}
            describe={(p) => d.describe(p, normsFor(view)?.raw ?? null)}
            labelText={d.labelText}
            labelOrder={d.labelOrder}
            cameraLink={cameraLink}
            primary={i === 0}
            order={sampleOrderOf(result)}
          />
        ))}
        {mapOpen && <HeadMap result={result} layouts={layouts} view={main} />}
      </div>
      <div className="hud hud-bottom-left">
        <Legend
          legend={d.legend}
          overlay={d.overlayData && overlay !== 'none' && !focus ? { figure: overlay, min: d.overlayData.min, max: d.overlayData.max } : null}
          tokens={focus ? (data.images ? 'images' : 'text') : null}
        />
      </div>
      <div className="hud hud-bottom-right">
        <WaitingNotice layouts={layouts} views={views} captions={captions.map((c) => c.split(' · ')[0])} computing={scheduler.canCompute} />
        {compare === 'normalization' && mode === 'raw' && (
          <p className="notice" role="status">
            Choose paper or optimized vectors to compare them with raw.
          </p>
        )}
        <ProjectionStatus layouts={layouts} scheduler={scheduler} views={views} />
      </div>
    </>
  );
}

/** Notes over the top of the canvas: a shared address's corpus, a run under way, layouts still arriving, a selection. */
function Notices() {
  const linkNotice = useApp((s) => s.linkNotice);
  const bundleStatus = useApp((s) => s.bundleStatus);
  const viewsOnly = useApp((s) => s.shown?.bundle?.viewsOnly ?? null);
  const running = useApp((s) => s.run.status === 'running');
  const shown = useApp((s) => s.shown !== null);
  const layouts = useApp((s) => s.projection?.layouts ?? null);
  const computing = useApp((s) => s.projection?.scheduler.canCompute ?? true);
  const focus = useView((s) => s.focus);
  const selected = useView((s) => s.selected);
  const views = useShownViews();
  return (
    <div className="hud hud-top-center">
      {linkNotice && (
        <p className="warning" role="status" data-testid="link-corpus-notice">
          {linkNotice}
        </p>
      )}
      {viewsOnly && (
        <p className="warning" role="status" data-testid="bundle-views-only">
          {viewsOnly} Links, vector norms, diagnostics and layouts not in the bundle need them.
        </p>
      )}
      {bundleStatus && (
        <p className={bundleStatus.kind === 'error' ? 'error' : 'notice'} role={bundleStatus.kind === 'error' ? 'alert' : 'status'} data-testid="bundle-status">
          {bundleStatus.message}
          {bundleStatus.kind === 'error' && (
            <>
              {' '}
              <button type="button" className="link-button" onClick={dismissBundleStatus}>
                Dismiss
              </button>
            </>
          )}
        </p>
      )}
      {running && shown && (
        <p className="notice" role="status">
          A new run is under way; this result stays until it succeeds.
        </p>
      )}
      {layouts && !focus && <ArrivingNotice layouts={layouts} views={views} computing={computing} />}
      {!focus && selected !== null && (
        <p className="notice" role="status">
          The selected sentence is highlighted in every head; Esc clears it.
        </p>
      )}
    </div>
  );
}

export function Stage() {
  const shown = useApp((s) => s.shown);
  const projection = useApp((s) => s.projection);
  return (
    <main className="stage" aria-label="Canvas">
      {shown && projection ? (
        <ResultStage result={shown.result} layouts={projection.layouts} scheduler={projection.scheduler} hash={shown.hash} />
      ) : (
        <Welcome />
      )}
      <Notices />
    </main>
  );
}
