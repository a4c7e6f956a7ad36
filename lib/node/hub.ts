// Node-only: a hub model as a converted model folder, for the CLI and the setup step. The
// look-up and downloads are lib/model/hub's (the page's code); the safetensors files are
// downloaded straight to disk and converted streaming, so the CLI opens models of any size.
// Everything is cached under .cache/hub/OWNER--NAME/COMMIT/ (source/ for the checkpoint, one
// folder per weight precision), so a second run at the same commit downloads nothing.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_HUB_ENDPOINT, type HubFiles, type HubPlan, describePlan, downloadHubModel, planHubModel } from '../model/hub';
import { type ModelSource, PREPROCESSOR_FILE, describeSource } from '../model/manifest';
import { FORMAT_LABELS, type WeightFormat } from '../model/weights';
import { formatBytes } from '../util/format';
import { type SourceFiles, convertToFolder, diskFile, isConvertedFolder } from './convert';

export interface HubFolderOptions {
  revision?: string;
  /** Default: $HF_ENDPOINT, else the public hub. */
  endpoint?: string;
  /** Default: $HF_TOKEN. */
  token?: string;
  cacheRoot: string;
  /** The graph's weight precision; float32 by default (Node has no tab's memory limit). */
  format?: WeightFormat;
  log?: (message: string) => void;
}

/** Downloads what a plan names into `dir` (each file under a .part name until whole), logging every tenth of the bytes. */
export async function downloadLogged(plan: HubPlan, token: string | undefined, dir: string, log: (message: string) => void): Promise<HubFiles> {
  log(`${plan.repo}@${plan.commit.slice(0, 12)}: ${describePlan(plan)}`);
  mkdirSync(dir, { recursive: true });
  let lastTenth = -1;
  return downloadHubModel(
    plan,
    token,
    (done, total) => {
      const tenth = Math.floor((10 * done) / Math.max(1, total));
      if (tenth !== lastTenth) log(`downloading ${formatBytes(done)} of ${formatBytes(total)}`);
      lastTenth = tenth;
    },
    {
      sinkFor: (file) => {
        const path = join(dir, file.name);
        const part = `${path}.part`;
        mkdirSync(join(part, '..'), { recursive: true });
        const fd = openSync(part, 'w');
        return {
          write: (bytes, at) => {
            let done = 0;
            while (done < bytes.byteLength) done += writeSync(fd, bytes, done, bytes.byteLength - done, at + done);
          },
          finish: () => {
            closeSync(fd);
            renameSync(part, path);
            return diskFile(path);
          },
        };
      },
    },
  );
}

/** Looks the model up, downloads and converts it unless this commit (in this precision) is cached, and returns the folder. */
export async function hubModelFolder(repo: string, options: HubFolderOptions): Promise<string> {
  const log = options.log ?? (() => {});
  const endpoint = options.endpoint ?? process.env.HF_ENDPOINT ?? DEFAULT_HUB_ENDPOINT;
  const token = options.token ?? process.env.HF_TOKEN ?? undefined;
  const format = options.format ?? 'float32';
  const plan = await planHubModel({ endpoint, repo, revision: options.revision, token });
  const root = join(options.cacheRoot, repo.replace(/\//g, '--'), plan.commit);
  const dir = format === 'float32' ? root : join(root, format);
  if (isConvertedFolder(dir)) {
    log(`${repo}@${plan.commit.slice(0, 12)}: converted copy in ${dir} (${FORMAT_LABELS[format]} weights)`);
    return dir;
  }
  const sourceDir = join(root, 'source');
  const files = await downloadLogged(plan, token, sourceDir, log);
  const source: ModelSource = { kind: 'hub', repo, revision: plan.commit };
  const converted = await convertToFolder(dir, { name: repo, source, sourceName: describeSource(source), files, weights: files.weights }, format);
  log(`converted to a ${formatBytes(converted.bytes)} ${FORMAT_LABELS[format]} graph in ${converted.seconds.toFixed(1)} s → ${dir}`);
  return dir;
}

/** A folder's config and tokenizer files (or a vision model's preprocessor_config.json), as a converted folder keeps them. */
export function readSourceFiles(dir: string): SourceFiles {
  const read = (f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : undefined);
  const preprocessor = read(PREPROCESSOR_FILE);
  if (preprocessor !== undefined && read('tokenizer.json') === undefined) return { config: read('config.json') ?? '{}', preprocessor };
  return { config: read('config.json') ?? '{}', tokenizer: read('tokenizer.json') ?? '{}', tokenizerConfig: read('tokenizer_config.json') };
}
