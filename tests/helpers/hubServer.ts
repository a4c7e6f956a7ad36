// A local stand-in for the Hugging Face hub, for tests with no network: the hub's URL layout
// ({repo}/resolve/{revision}/{file}), X-Repo-Commit, its X-Error-Code refusals (unknown repo,
// gated repo, unknown revision, missing file), a 302 to a CDN path for weight files, Range
// requests there, CORS for the page — and faults on demand: a connection cut once or always.
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, readdirSync, statSync } from 'node:fs';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import { join } from 'node:path';

/** A file's bytes in memory, or a file on disk (a checkpoint too large to hold), served the same way. */
export type HubBytes = Uint8Array | { path: string; byteLength: number };

export interface HubRepo {
  files: Map<string, HubBytes>;
  /** Gated: only this token gets the files. */
  token?: string;
  /** Files whose responses send half their bytes and cut the connection, every time… */
  cutAlways?: string[];
  /** …or only the first time. */
  cutOnce?: string[];
  /** Files published only on a pull request's ref (as many DeiT repos keep their safetensors: refs/pr/N). */
  pullRequest?: { ref: string; files: Map<string, HubBytes> };
}

export interface HubServer {
  url: string;
  /** "METHOD path [range]" of every request, in order. */
  requests: string[];
  commitOf(repo: string): string;
  close(): Promise<void>;
}

/** A repository's top-level files from a folder (fixtures: config, weights, tokenizer; subfolders skipped); `onDisk` files are served from disk, not read. */
export function repoFromDir(dir: string, only?: string[], options: { onDisk?: string[] } = {}): Map<string, HubBytes> {
  const files = new Map<string, HubBytes>();
  for (const name of readdirSync(dir)) {
    if (only && !only.includes(name)) continue;
    const path = join(dir, name);
    const stat = statSync(path);
    if (!stat.isFile()) continue;
    files.set(name, options.onDisk?.includes(name) ? { path, byteLength: stat.size } : new Uint8Array(readFileSync(path)));
  }
  return files;
}

const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Expose-Headers': 'X-Repo-Commit, X-Error-Code, Content-Range, Content-Length, ETag',
  'Cross-Origin-Resource-Policy': 'cross-origin',
};

export async function startHubServer(repos: Record<string, HubRepo>): Promise<HubServer> {
  const commits = new Map(Object.entries(repos).map(([name, r]) => [name, createHash('sha1').update(name).update(String(r.files.size)).digest('hex')]));
  const cutDone = new Set<string>();
  const requests: string[] = [];

  const refuse = (res: ServerResponse, status: number, code: string) => {
    res.writeHead(status, { ...CORS, 'X-Error-Code': code, 'Content-Type': 'text/plain' });
    res.end(code);
  };

  const sendFile = (req: IncomingMessage, res: ServerResponse, repo: string, file: string, bytes: HubBytes, commit: string) => {
    const r = repos[repo];
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    let start = 0;
    let end = bytes.byteLength - 1;
    if (range) {
      start = Number(range[1]);
      if (range[2]) end = Math.min(end, Number(range[2]));
      if (start > end) {
        res.writeHead(416, { ...CORS, 'Content-Range': `bytes */${bytes.byteLength}` });
        res.end();
        return;
      }
    }
    const headers: Record<string, string> = {
      ...CORS,
      'Content-Length': String(end + 1 - start),
      'Accept-Ranges': 'bytes',
      'X-Repo-Commit': commit,
      'Content-Type': 'application/octet-stream',
    };
    if (range) headers['Content-Range'] = `bytes ${start}-${end}/${bytes.byteLength}`;
    res.writeHead(range ? 206 : 200, headers);
    if (req.method === 'HEAD') return void res.end();
    if (!(bytes instanceof Uint8Array)) {
      createReadStream(bytes.path, { start, end }).pipe(res);
      return;
    }
    const body = bytes.subarray(start, end + 1);
    const key = `${repo}/${file}`;
    const cut = r.cutAlways?.includes(file) || (r.cutOnce?.includes(file) && !cutDone.has(key));
    // A cut applies to downloads of the data (whole, or resumed to the end), not to the bounded header reads before one.
    if (cut && !(range && range[2])) {
      cutDone.add(key);
      res.write(body.subarray(0, Math.floor(body.byteLength / 2)), () => res.socket?.destroy());
      return;
    }
    res.end(body);
  };

  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(`${req.method} ${path}${req.headers.range ? ` ${req.headers.range}` : ''}`);
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { ...CORS, 'Access-Control-Allow-Headers': 'Authorization, Range', 'Access-Control-Allow-Methods': 'GET, HEAD' });
      return void res.end();
    }
    const cdn = /^\/cdn\/(.+)\/([0-9a-f]{40})\/([^/]+)$/.exec(path);
    if (cdn) {
      const [, repo, commit, file] = cdn;
      const r = repos[repo];
      const onPr = !!r?.pullRequest && createHash('sha1').update(`${repo}@${r.pullRequest.ref}`).digest('hex') === commit;
      const bytes = onPr ? r.pullRequest!.files.get(file) : r?.files.get(file);
      if (!bytes || (!onPr && commits.get(repo) !== commit)) return refuse(res, 404, 'EntryNotFound');
      return sendFile(req, res, repo, file, bytes, commit);
    }
    // The revision is one path segment, escaped (refs%2Fpr%2F1): split before unescaping.
    const m = /^\/(.+?)\/resolve\/([^/]+)\/(.+)$/.exec(new URL(req.url ?? '/', 'http://x').pathname);
    if (!m) return refuse(res, 404, 'RepositoryNotFound');
    const [repo, revision, file] = m.slice(1).map(decodeURIComponent);
    const r = repos[repo];
    // The hub does not tell a missing repository from a private one without a token: 401.
    if (!r) return refuse(res, 401, 'RepositoryNotFound');
    const commit = commits.get(repo)!;
    if (r.token) {
      const auth = req.headers.authorization;
      if (!auth) return refuse(res, 401, 'GatedRepo');
      if (auth !== `Bearer ${r.token}`) return refuse(res, 403, 'GatedRepo');
    }
    const pr = r.pullRequest;
    const prCommit = pr && createHash('sha1').update(`${repo}@${pr.ref}`).digest('hex');
    const onPr = !!pr && (revision === pr.ref || revision === prCommit);
    if (revision !== 'main' && revision !== commit && !onPr) return refuse(res, 404, 'RevisionNotFound');
    const bytes = onPr ? pr!.files.get(file) : r.files.get(file);
    if (!bytes) return refuse(res, 404, 'EntryNotFound');
    const at = onPr ? prCommit! : commit;
    if (file.endsWith('.safetensors')) {
      res.writeHead(302, { ...CORS, Location: `/cdn/${repo}/${at}/${file}`, 'X-Repo-Commit': at });
      return void res.end();
    }
    sendFile(req, res, repo, file, bytes, at);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    commitOf: (repo) => commits.get(repo)!,
    close: () =>
      new Promise((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
