"""bench:distributed — tokens/s of qkviz.run_on_ray with 1, 2 and 4 workers on a local Ray cluster, against
the same corpus extracted and written in one process without Ray (the baseline, measured in the
same run), and the throughput model for N machines that the measured rates give.

    npm run bench:distributed [-- --sentences 1500 --threads 1]

The corpus is the default corpus repeated (each repeat numbered, so no two sentences are equal).
Each task runs onnxruntime on `--threads` threads; Ray starts with 4 CPUs whatever the machine
has, so 4 workers on a 2-core machine share its cores (the figure says what oversubscription costs).
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "public" / "models" / "all-MiniLM-L6-v2"


def corpus(count):
    lines = [l.strip() for l in (ROOT / "public" / "corpus" / "default.txt").read_text().splitlines() if l.strip() and not l.startswith("#")]
    return [f"{lines[i % len(lines)]} ({i // len(lines) + 1})" if i >= len(lines) else lines[i] for i in range(count)]


def single_process(texts, out, threads):
    """No Ray: extract in this process, analyse and write the bundle — what a run on one machine costs."""
    import qkviz
    from qkviz.distributed import OnnxExtractor, hashed_sample

    started = time.perf_counter()
    ex = OnnxExtractor(MODEL, threads)
    tokenized = [ex.tokenize(t) for t in texts]
    ids = [t[0] for t in tokenized]
    queries, keys, attention = ex.run(ids, hashed_sample(texts))
    extracted = time.perf_counter()
    qkviz.write_bundle(out, [t[1] for t in tokenized], np.concatenate(queries, axis=2), np.concatenate(keys, axis=2), ids=ids, texts=texts, attention=ex.attention, attention_sample=attention)
    done = time.perf_counter()
    return sum(map(len, ids)), done - started, extracted - started, done - extracted


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sentences", type=int, default=1500)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--workers", default="1,2,4")
    args = parser.parse_args()
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import ray
    import qkviz

    texts = corpus(args.sentences)
    work = Path(tempfile.mkdtemp(prefix="qkviz-bench-ray-"))
    try:
        tokens, base_s, base_extract, base_write = single_process(texts, work / "single.qkviz", args.threads)
        print(f"corpus: {len(texts):,} sentences, {tokens:,} tokens; model {MODEL.name}; {os.cpu_count()} cores here; onnxruntime threads a task: {args.threads}")
        print(f"baseline, one process without Ray: {base_s:.1f} s = {tokens / base_s:,.0f} tokens/s (extract {base_extract:.1f} s, analyse+write {base_write:.1f} s)")
        ray.init(num_cpus=4, include_dashboard=False, log_to_driver=False)
        # Warm: the first tasks of a fresh cluster pay for starting worker processes.
        qkviz.run_on_ray(texts[:40], str(MODEL), work / "warm.qkviz", workers=4, shards=4, threads=args.threads)
        rows = []
        for w in [int(x) for x in args.workers.split(",")]:
            shards = []
            report = qkviz.run_on_ray(texts, str(MODEL), work / f"ray{w}.qkviz", workers=w, shards=4 * w, threads=args.threads, on_shard=shards.append)
            per_worker = sum(sum(map(len, s.ids)) for s in shards) / sum(s.extract_s + s.sums_s for s in shards)
            rows.append((w, report, per_worker))
            print(
                f"{w} worker{'s' if w > 1 else ' '}: {report.seconds:6.1f} s = {report.tokens_per_second:7,.0f} tokens/s "
                f"({report.tokens_per_second / (tokens / base_s):.2f}× the baseline; extract {report.extract_seconds:.1f} s, merge {report.merge_seconds:.1f} s; "
                f"a task {per_worker:,.0f} tokens/s)"
            )
        views = qkviz.run_on_ray(texts, str(MODEL), work / "views.qkviz", workers=2, shards=8, threads=args.threads, contents="views")
        print(f"2 workers, views bundle (layouts and figures, no vectors): {views.seconds:.1f} s = {views.tokens_per_second:,.0f} tokens/s; merge {views.merge_seconds:.1f} s")
        # The throughput model: T(N) = start + fixed + tokens / (N · c · r) + tokens / m, with r a task's rate
        # measured alone (1 worker), c tasks a machine, m the rate of the merge's part that reads every shard
        # (one process), fixed the part that does not grow with the corpus (the head map on its sample).
        one = rows[0]
        r = one[2]
        start = max(0.0, one[1].extract_seconds - tokens / r)
        for kind, report in (("full", one[1]), ("views", views)):
            fixed = report.similarities_seconds
            m = tokens / (report.merge_seconds - fixed)
            print(f"model ({kind} bundle): a task {r:,.0f} tokens/s, merge {m:,.0f} tokens/s + {fixed:.1f} s (head map), fixed {start:.1f} s a run")
            for machines in (1, 2, 4, 8, 16, 64):
                for cores in (2, 16):
                    big = 10_000_000
                    t = start + fixed + big / (machines * cores * r) + big / m
                    print(f"  {machines:3d} machines × {cores:2d} cores: 10M tokens in {t / 60:6.1f} min = {big / t:9,.0f} tokens/s (merge {100 * (big / m) / t:4.1f}% of it)")
    finally:
        ray.shutdown()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
