"""Benchmark: reading and writing a result store at the size of the paper's sweep, against the single-file store it replaced.

The store: 66 backbones x 16 datasets (the paper's 15 and ImageNet-Hard, each at its test-split size: 245,000 images
in all) x 5 resolutions, one cell per (backbone, dataset), written with the real `ResultStore.add`; per-image
predictions are synthetic (random labels and top-5), 1.23 million rows per backbone, 81 million in all at --scale 1.

Baseline, measured in the same run on the same rows: the single-file store lr0fm wrote before shards (results.csv and
predictions.parquet replaced whole on every add), i.e. `pd.read_csv` of results.csv for results() and missing(), and
for one add: read the whole predictions.parquet, append one cell, write it back (what every add of the old store did).

    python benchmarks/bench_store.py [--scale 1.0] [--out DIR] [--keep]

Prints times and ratios new / old. Results are recorded in benchmarks/RESULTS.md with the machine and date.
"""
import argparse, os, platform, shutil, statistics, sys, tempfile, time
from pathlib import Path
import numpy as np, pandas as pd

SIZES = dict(imagenet=50000, **{'imagenet-a': 7500, 'imagenet-v2': 10000, 'imagenet-r': 30000, 'imagenet-sketch': 50889},
             caltech101=5647, dtd=1880, food101=25250, sun397=19850, **{'stanford-cars': 8041, 'fgvc-aircraft': 3333, 'oxford-pets': 3669},
             flowers102=6149, eurosat=8100, ucf101=3783, **{'imagenet-hard': 10980})  # test-split sizes of lr0fm's dataset registry
RES = ['HR', '128', '64', '32', '16']
N_CLASSES = dict(imagenet=1000, **{'imagenet-a': 200, 'imagenet-v2': 1000, 'imagenet-r': 200, 'imagenet-sketch': 1000}, caltech101=101, dtd=47,
                 food101=101, sun397=397, **{'stanford-cars': 196, 'fgvc-aircraft': 100, 'oxford-pets': 37}, flowers102=102, eurosat=10, ucf101=101,
                 **{'imagenet-hard': 1000})


def preds_of(ident, n, c, rng):
    "Synthetic per-image predictions of one cell: n images x 5 resolutions."
    ids = [f'{ident["dataset"]}/class{i % c:04d}/image_{i:08d}.JPEG' for i in range(n)]
    lab = rng.integers(0, c, n)
    frames = [pd.DataFrame(dict(ident, resolution=r, image_id=ids, label=lab, **{f'pred_{j}': rng.integers(0, c, n).astype('int32') for j in range(1, 6)}))
              for r in RES]
    return pd.concat(frames, ignore_index=True)


def timed(f, repeat=3):
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter(); out = f(); ts.append(time.perf_counter() - t0)
    return statistics.median(ts), out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--scale', type=float, default=1.0, help='fraction of each dataset size (1.0: the paper size)')
    ap.add_argument('--backbones', type=int, default=66)
    ap.add_argument('--out', default=None); ap.add_argument('--keep', action='store_true')
    ap.add_argument('--all-predictions', action='store_true', help='also time predictions() of the whole store (needs memory: ~20 GB at scale 1)')
    a = ap.parse_args()
    from lr0fm.results import ResultStore
    root = Path(a.out or tempfile.mkdtemp(prefix='bench_store_')); shutil.rmtree(root, ignore_errors=True)
    st, rng = ResultStore(root / 'store'), np.random.default_rng(0)
    print(f'{platform.node()} {platform.processor() or platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}, '
          f'pandas {pd.__version__}; {a.backbones} backbones x {len(SIZES)} datasets x {len(RES)} resolutions, scale {a.scale}')
    cache, adds, n_pred = {}, [], 0
    t_all = time.perf_counter()
    for m in range(a.backbones):
        for d, n in SIZES.items():
            n = max(1, int(n * a.scale)); c = N_CLASSES[d]
            ident = dict(model=f'backbone-{m:02d}', pretrained='synthetic', dataset=d, split='test', protocol='model')
            if d not in cache: cache[d] = preds_of(dict(ident, model='x'), n, c, rng)
            p = cache[d].assign(model=ident['model'])
            rows = [dict(ident, resolution=r, n_images=n, n_classes=c, top1=float(rng.random()), top5=1.0, n_skipped=0, toy=False) for r in RES]
            t0 = time.perf_counter(); st.add(rows, p); adds.append(time.perf_counter() - t0)
            n_pred += len(p)
    t_write = time.perf_counter() - t_all
    size = sum(f.stat().st_size for f in (root / 'store').rglob('*') if f.is_file())
    print(f'wrote {len(adds)} cells, {n_pred:,} prediction rows, {size / 2**20:.0f} MiB in {t_write:.0f} s; '
          f'add per cell: median {statistics.median(adds) * 1e3:.0f} ms, max {max(adds) * 1e3:.0f} ms')

    t_res, r = timed(st.results)
    mid = f'backbone-{a.backbones // 2:02d}'
    one = dict(model=mid, pretrained='synthetic', dataset='imagenet', split='test', protocol='model')
    t_miss, miss = timed(lambda: st.missing(*one.values(), RES), repeat=20)
    t_new_cell, _ = timed(lambda: st.missing('backbone-99', 'synthetic', 'imagenet', 'test', 'model', RES), repeat=20)
    t_pm, pm = timed(lambda: st.predictions(model=mid), repeat=1)
    t_pc, pc = timed(lambda: st.predictions(model=mid, dataset='imagenet'), repeat=3)
    assert len(r) == len(adds) * len(RES) and miss == [] and len(pm) == n_pred // a.backbones

    # baseline: the single-file store, built from the same rows (its predictions.parquet streamed shard by shard)
    import pyarrow as pa, pyarrow.parquet as pq
    old = root / 'old'; old.mkdir()
    r.to_csv(old / 'results.csv', index=False)
    w = st._winners(); writer = None
    for sh, g in w.groupby('_shard', sort=True):
        t = pq.read_table(Path(sh) / 'predictions.parquet')
        for c in ['model', 'pretrained', 'dataset', 'split', 'protocol']: t = t.append_column(c, pa.array([g.iloc[0][c]] * len(t), pa.string()))
        if writer is None: writer = pq.ParquetWriter(old / 'predictions.parquet', t.schema)
        writer.write_table(t.select(writer.schema.names))
    writer.close()
    def old_results(): return pd.read_csv(old / 'results.csv', dtype={'resolution': str})
    def old_missing():
        x = old_results(); m = (x['model'] == one['model']) & (x['dataset'] == one['dataset'])
        return [q for q in RES if q not in set(x.loc[m, 'resolution'])]
    new_cell = cache['dtd'].assign(model='backbone-new')
    def old_add():  # one new cell into the single-file store: read everything, append, rewrite (the old ResultStore.add;
        t = pq.read_table(old / 'predictions.parquet')  # done here with pyarrow, which is faster than the old pandas path)
        nt = pa.Table.from_pandas(new_cell, preserve_index=False).select(t.schema.names).cast(t.schema)
        pq.write_table(pa.concat_tables([t, nt]), old / 'predictions.parquet')
        x = pd.concat([old_results(), r.iloc[:5].assign(model='backbone-new')]); x.to_csv(old / 'results.csv', index=False)
    to_res, _ = timed(old_results); to_miss, _ = timed(old_missing, repeat=20)
    to_add, _ = timed(old_add, repeat=1)
    new_add, _ = timed(lambda: st.add(r.iloc[:5].assign(model='backbone-new', dataset='dtd').to_dict('records'),
                                      cache['dtd'].assign(model='backbone-new')), repeat=1)

    print(f'\n{"operation":<46}{"sharded (s)":>12}{"single-file (s)":>17}{"ratio":>10}')
    for name, new, o in [(f'results(): all {len(r):,} rows', t_res, to_res), ('missing(): one cell', t_miss, to_miss),
                         ('add(): one more cell (DTD) at sweep size', new_add, to_add)]:
        print(f'{name:<46}{new:>12.4f}{o:>17.4f}{new / o:>10.4g}')
    print(f'{"missing(): a cell not in the store":<46}{t_new_cell:>12.4f}')
    print(f'{"predictions(model=one backbone)":<46}{t_pm:>12.2f}   ({len(pm):,} rows)')
    print(f'{"predictions(model=..., dataset=imagenet)":<46}{t_pc:>12.2f}   ({len(pc):,} rows)')
    if a.all_predictions:
        t0 = time.perf_counter(); n_all = len(st.predictions())
        print(f'{"predictions(): the whole store":<46}{time.perf_counter() - t0:>12.1f}   ({n_all:,} rows)')
    if not a.keep: shutil.rmtree(root, ignore_errors=True)


if __name__ == '__main__':
    main()
