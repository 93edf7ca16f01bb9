"""Benchmark: does lr0fm's data path keep the image encoder busy, and how does it compare with the peers' loop? One run.

For each model (random init, seeded: no weights are downloaded):
  model-only   the image tower alone on ready-made (B, 3, S, S) tensors, at the precision `evaluate` uses;
               reported as images/s = views/s divided by the number of resolution views per image.
  lr0fm        `lr0fm.zeroshot.evaluate` over real photos at all resolutions (classifier prebuilt, not timed):
               the PIL backend (the paper's protocol) at each worker count W, and the torch backend (decode on
               CPU, views on the device) at the most workers.
  peers' loop  CLIP_benchmark's own zero-shot loop, `clip_benchmark.metrics.zeroshot_classification.run_classification`
               (the image loop its CLI's `evaluate` runs per dataset), once per view (HR, 128, 64, 32, 16): each pass is
               a DataLoader over the same photos whose workers decode, down-sample to n (`lr0fm.degrade.degrade`, the
               model's resize mode) and apply the open_clip preprocess; batch 64, W = 4 (its CLI defaults) and all
               cores, no pinned memory (as its CLI), AMP on a GPU (its CLI default; float32 on a CPU, like lr0fm there).
               `evaluate` itself is not called: 1.6.2's `accuracy` does float() of a 1-element array, a TypeError with
               NumPy 2.4 (deprecated since 1.25). Both sides get the same prebuilt classifier (lr0fm's, in CLIP_benchmark's (dim, classes)
               layout; the same formula as its `zero_shot_classifier`), so neither timing includes building it; each
               includes its own top-1. images/s = images / time of all five passes (each image counted once, as for
               lr0fm, which makes all views in one pass). Skipped, with a printed line, when clip_benchmark is not
               installed (`pip install 'lr0fm[bench]'`).
  data path    `evaluate` with a stand-in model whose image tower is the per-channel mean of its input (the real
               preprocess and sizes, a prebuilt 3-wide classifier): the data path alone, at 0 workers and all cores,
               default batch size, with this process at (cores - W) torch threads, as `evaluate` runs it on a GPU.
  CPU part     on one core in this process (torch at 1 thread): decode + all PIL views per image, and decode only
               (what the torch backend leaves to the CPU); PIL limit = usable cores x the first.
It prints lr0fm / peer ratios at equal worker counts, lr0fm PIL / PIL limit, data path W=all / W=0, and the cores a
model needs to stay GPU-bound; then re-scores the end-to-end run's saved features (`score_features`). The last line
is `JSON {...}`: every number with the machine and date.

    python benchmarks/bench_gpu_pipeline.py                  # CPU: tiny (64 photos, ViT-B-32, W = 0 and all cores)
    python benchmarks/bench_gpu_pipeline.py --device cuda    # GPU: ViT-B-32 and ViT-B-16, W = 0, 4, all cores

Images per timed run: on a GPU 8 x 64 x max(W, 1) (8 batches of the peers' 64 per worker: 512 at W = 0, 2,048 at 4,
8,192 at 16 cores), so every worker is used; on a CPU 64 for the model runs (a few minutes on 2 cores; workers are
then under-used and a note says so) and 8 x batch x max(W, 1) for the data-path runs. --n-images N uses N for every
run. Photos: the 1,000-photo ImageNet sample (`--root`, default ../shared/data/imagenet-sample, repeated to reach the
count); `--root ''` or no sample: procedurally drawn JPEGs of ImageNet-like sizes. Record results in
benchmarks/RESULTS.md with the machine and date.
"""
import argparse, importlib, json, os, platform, tempfile, time, warnings
os.environ.setdefault('HF_HUB_OFFLINE', '1')
os.environ.setdefault('TQDM_DISABLE', '1')  # CLIP_benchmark's loops draw progress bars
import numpy as np, torch
warnings.filterwarnings('ignore', message='This DataLoader will create')  # the peers' 4 workers on fewer cores: a note says so

PEER_BATCH = 64  # CLIP_benchmark's CLI default --batch_size
PEER_WORKERS = 4  # and its default --num_workers


def photo_dataset(root, n, tmp):
    "The ImageNet sample, or min(n, 1,000) procedural JPEGs (sizes 200-500 px) in an image folder; `ensure` repeats its photos to any count."
    from lr0fm.data import imagenet_meta
    from lr0fm.registry import get_dataset
    if root:
        ds, src = get_dataset('imagenet-sample', root, templates=imagenet_meta()['templates'][:1]), 'ImageNet-sample photos'
    else:
        from PIL import Image
        g = np.random.default_rng(0)
        for i in range(min(n, 1000)):
            d = os.path.join(tmp, f'class{i % 10}'); os.makedirs(d, exist_ok=True)
            h, w = g.integers(200, 500, 2)
            x = np.cumsum(g.normal(0, 8, (h, w, 3)), axis=1)  # smooth-ish rows, so JPEG sizes are photo-like
            Image.fromarray(np.uint8(np.clip(x - x.min(axis=1, keepdims=True), 0, 255))).save(os.path.join(d, f'{i}.jpg'), quality=90)
        ds, src = get_dataset('imagefolder', tmp), 'procedural JPEGs (no ImageNet sample found)'
    base = list(ds.items)
    src += f' ({len(base)} distinct, repeated as needed)'
    def ensure(k):
        if len(ds.items) < k: ds.items = [base[i % len(base)] for i in range(k)]
    ensure(n)
    return ds, src, ensure


def sync(dev):
    if dev.type == 'cuda': torch.cuda.synchronize()


def model_only(b, n_views, batch, reps):
    "Images/s of the image tower alone (views/s / n_views), at evaluate's precision."
    from lr0fm.zeroshot import _autocast
    s = b.input_size  # meta['input_size']
    x = torch.randn(batch, 3, s, s, device=b.device)
    with torch.no_grad(), _autocast(b.device, b.meta.get('amp_dtype')):
        for _ in range(2): b.encode_image(x)
        sync(b.device); t = time.perf_counter()
        for _ in range(reps): b.encode_image(x)
        sync(b.device); dt = time.perf_counter() - t
    return reps * batch / dt / n_views


def cpu_part(b, ds, res, n):
    "Images/s on one core (this process, torch at 1 thread): decode + every PIL view (a PIL-backend worker's job), and decode only (the torch backend's)."
    from lr0fm.degrade import lr_transform, resize_mode_for, make_views
    tf, rm = lr_transform(b), resize_mode_for(b.meta)
    def views(i): return make_views(ds.load(i), res, tf, rm, ds.image_id(i))
    def decode(i):
        img = ds.load(i)
        return torch.from_numpy(np.array(img if img.mode == 'RGB' else img.convert('RGB'), dtype=np.uint8)).permute(2, 0, 1)
    threads, out = torch.get_num_threads(), {}
    torch.set_num_threads(1)
    try:
        for name, f in (('decode + views (PIL)', views), ('decode only (torch backend)', decode)):
            t = time.perf_counter()
            for i in range(n): f(i)
            out[name] = n / (time.perf_counter() - t)
    finally: torch.set_num_threads(threads)
    return out


class PeerView(torch.utils.data.Dataset):
    "One view of the first n photos, as a CLIP_benchmark dataset yields it: (preprocessed image, label)."
    def __init__(self, ds, n, view, preprocess, resize_mode):
        self.ds, self.n, self.view, self.tf, self.rm = ds, n, view, preprocess, resize_mode
    def __len__(self): return self.n
    def __getitem__(self, i):
        from lr0fm.degrade import degrade
        img = self.ds.load(i)  # decode (RGB), as lr0fm does
        if self.view != 'HR': img = degrade(img, self.view, self.rm)  # the paper's down-sampling, in the worker
        return self.tf(img), self.ds.items[i][1]


def peer_loop(b, ds, n, res, workers, classifier, amp):
    "CLIP_benchmark's `run_classification` once per view over n photos, one DataLoader per pass: (images/s over all passes, top-1 per view)."
    from clip_benchmark.metrics.zeroshot_classification import run_classification
    from lr0fm.degrade import res_label, resize_mode_for
    dev, rm, top1 = b.device, resize_mode_for(b.meta), {}
    sync(dev); t = time.perf_counter()
    for r in res:
        dl = torch.utils.data.DataLoader(PeerView(ds, n, r, b.preprocess, rm), batch_size=PEER_BATCH, shuffle=False, num_workers=workers)
        logits, target = run_classification(b.model, classifier, dl, dev.type, amp=amp)
        top1[res_label(r)] = float((logits.argmax(1) == target).float().mean())
    sync(dev)
    return n / (time.perf_counter() - t), top1


class _ChannelMean(torch.nn.Module):
    "A stand-in image tower that costs next to nothing: the per-channel mean of its input, (B, 3)."
    def __init__(self):
        super().__init__(); self.logit_scale = torch.nn.Parameter(torch.zeros(()))
    def encode_image(self, x): return x.float().mean((-2, -1))


def data_path_bundle(b):
    "The model's preprocess, tokenizer and meta (input size, resize mode) around the stand-in tower, on the model's device."
    from lr0fm.models import ModelBundle
    return ModelBundle(_ChannelMean().to(b.device), b.preprocess, b.tokenizer, {**b.meta, 'name': f'{b.name}-data-path-only'})


def main():
    from importlib.metadata import version, PackageNotFoundError
    from lr0fm.core import shared_data_path
    from lr0fm.degrade import DEFAULT_RESOLUTIONS, res_label
    from lr0fm.registry import load_model
    from lr0fm.zeroshot import evaluate, build_classifier, score_features, usable_cores, auto_batch_size, _main_threads
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--root', default=os.environ.get('LR0FM_IMAGENET_SAMPLE') or shared_data_path('imagenet-sample'),
                    help="the ImageNet sample; '' for procedural JPEGs")
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--models', nargs='+', default=None, help='default: ViT-B-32 on CPU, ViT-B-32 ViT-B-16 on GPU')
    ap.add_argument('--n-images', type=int, default=None, help='images for every timed run (default: see above)')
    ap.add_argument('--workers', type=int, nargs='+', default=None, help='lr0fm PIL worker counts (default: 0 and all cores on CPU; 0 4 all on GPU)')
    ap.add_argument('--peer-workers', type=int, nargs='+', default=None, help=f'worker counts of the peers\' loop (default: {PEER_WORKERS} and all cores)')
    ap.add_argument('--peer-amp', choices=('auto', 'on', 'off'), default='auto', help='AMP in the peers\' loop (auto: on a GPU, as its CLI; off on a CPU, as lr0fm)')
    ap.add_argument('--batch-size', type=int, default=None, help='lr0fm batch (default: auto_batch_size, 32 on CPU)')
    ap.add_argument('--data-images', type=int, default=None, help='images for each data-path-only run (default: 8 x its batch x max(W, 1) on CPU, as the others on GPU)')
    ap.add_argument('--cores-from', default=None, metavar='MODEL=IMG/S,PIL=RATE,DECODE=RATE',
                    help='print only the cores table from recorded figures, e.g. ViT-B-16=1370,PIL=36.8,DECODE=296 (the 2026-12-04 H200 run)')
    ap.add_argument('--cpu-images', type=int, default=None, help='images for the one-core CPU-part rate (default: 200 on GPU, 64 on CPU)')
    a = ap.parse_args()
    if a.cores_from:  # the table alone, from figures recorded in an earlier run
        try:
            kv = dict(x.split('=') for x in a.cores_from.split(','))
            pil_core, decode_core = float(kv.pop('PIL')), float(kv.pop('DECODE'))
            (ref, rate), = kv.items()
        except ValueError: ap.error('--cores-from takes MODEL=IMG/S,PIL=RATE,DECODE=RATE')
        cores_table(ref, float(rate), pil_core, decode_core); return
    dev = torch.device(a.device); gpu = dev.type == 'cuda'
    cores = usable_cores()
    models = a.models or (['ViT-B-32', 'ViT-B-16'] if gpu else ['ViT-B-32'])
    workers = sorted(set(a.workers)) if a.workers is not None else sorted({0, 4, cores} if gpu else {0, cores})
    peer_workers = sorted(set(a.peer_workers or [PEER_WORKERS, cores]))
    data_workers = sorted({0, cores})
    peer_amp = gpu if a.peer_amp == 'auto' else a.peer_amp == 'on'

    def images(W, data=False, batch=None):  # images of a timed run with W workers
        if a.n_images: return a.n_images
        if data and not gpu: return a.data_images or 8 * batch * max(W, 1)
        if data and a.data_images: return a.data_images
        return 8 * PEER_BATCH * max(W, 1) if gpu else 64

    try: clip_benchmark = version('clip-benchmark')
    except PackageNotFoundError: clip_benchmark = None
    if clip_benchmark:
        try: importlib.import_module('clip_benchmark.metrics.zeroshot_classification')  # run_classification: the peers' loop
        except ImportError as e: clip_benchmark, why = None, f'clip_benchmark is installed but does not import ({e})'
    else: why = "clip_benchmark is not installed (pip install 'lr0fm[bench]', or pip install --no-deps clip-benchmark)"
    import open_clip
    res = DEFAULT_RESOLUTIONS
    gpu_name = torch.cuda.get_device_name(dev) if gpu else None
    date = time.strftime('%Y-%m-%d %H:%M')
    machine = dict(date=date, platform=platform.platform(), machine=platform.machine(), python=platform.python_version(),
                   cpu_count=os.cpu_count(), usable_cores=cores, torch=torch.__version__, torch_threads=torch.get_num_threads(),
                   open_clip=open_clip.__version__, clip_benchmark=clip_benchmark, device=str(dev), gpu=gpu_name)
    print(f'lr0fm GPU-pipeline benchmark  {date}  {platform.machine()}  {os.cpu_count()} CPUs ({cores} usable cores)  '
          f'torch {torch.__version__}  open_clip {open_clip.__version__}  clip_benchmark {clip_benchmark or "not installed"}  '
          f'device {dev} ({gpu_name or "no GPU"})')
    record = dict(machine=machine, resolutions=[res_label(r) for r in res], models={})
    n_cpu = a.cpu_images or (200 if gpu else 64)
    with tempfile.TemporaryDirectory() as tmp:
        ds, src, ensure = photo_dataset(a.root or None, max([n_cpu] + [images(W) for W in workers + peer_workers]), tmp)
        record.update(photos=src, n_classes=ds.n_classes)
        print(f'photos: {src}, {ds.n_classes} classes; resolutions {[res_label(r) for r in res]}; models random-init {models}')
        print(f'lr0fm PIL workers {workers}; peers\' loop workers {peer_workers}, batch {PEER_BATCH}, '
              f'AMP {"on" if peer_amp else "off"}; data path workers {data_workers}\n')
        for m in models:
            b = load_model(m, seed=0, device=str(dev))
            bs = a.batch_size or auto_batch_size(b, len(res))
            w = build_classifier(b, ds.classnames, ds.templates)
            mo = model_only(b, len(res), bs * len(res) if gpu else bs, 20 if gpu else 2)
            rec = record['models'][m] = dict(batch_size=bs, model_only=mo, lr0fm={}, peer={}, data_path={}, notes=[])
            print(f'== {m}  lr0fm batch {bs} images ({bs * len(res)} views)  precision {"bf16/fp16 autocast" if gpu else "float32"}')
            print(f'{"way":52s} {"images":>7s} {"batch":>6s} {"images/s":>10s} {"x model-only":>13s}')
            def row(label, n, batch, rate):
                print(f'{label:52s} {n:7d} {batch:6d} {rate:10.1f} {rate / mo:13.2f}')
            def note(way, W, n, batch):  # fewer than 8 batches per worker: some workers idle, or none reaches a steady state
                if W and n < 8 * batch * W:
                    s = f'{way} at {W} workers: {n} images = {n / batch:.1f} batches of {batch} for {W} workers (fewer than 8 each)'
                    rec['notes'].append(s)
            print(f'{"model only (views/s / " + str(len(res)) + ")":52s} {"":7s} {bs:6d} {mo:10.1f} {1:13.2f}')

            # lr0fm: the PIL backend at each W, the torch backend at the most workers
            e2e = {}
            for backend in ('pil', 'torch'):
                for j, W in enumerate(workers if backend == 'pil' else [max(workers)]):
                    n = images(W)
                    kw = dict(classifier=w, batch_size=bs, workers=W, resize_backend=backend, keep_features=True)
                    try:
                        if gpu and j == 0: evaluate(b, ds, res, limit=min(n, 64), **kw)  # warm-up once per backend: kernels, cudnn plans
                        sync(dev); t = time.perf_counter(); r = evaluate(b, ds, res, limit=n, **kw); sync(dev); dt = time.perf_counter() - t
                    except Exception as e:  # a crash is a result too (the table has one): say it, go on
                        msg = f'{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ""}'
                        rec['lr0fm'][f'{backend}@{W}'] = dict(images=n, batch=bs, error=msg)
                        print(f'{f"lr0fm {backend.upper()} backend, {W} workers":52s} {n:7d} {bs:6d}    CRASHED: {msg}')
                        continue
                    e2e[(backend, W)] = (n / dt, r)
                    rec['lr0fm'][f'{backend}@{W}'] = dict(images=n, batch=bs, images_per_s=n / dt, skipped=len(r.skipped))
                    row(f'lr0fm {backend.upper()} backend, {W} workers', n, bs, n / dt)
                    note(f'lr0fm {backend.upper()}', W, n, bs)

            # the peers' loop: CLIP_benchmark's run_classification once per view
            peer = {}
            if clip_benchmark:
                clf = w.T.contiguous().float().to(dev)  # (dim, classes), its zero_shot_classifier's layout; lr0fm's build, same formula
                if gpu: peer_loop(b, ds, min(PEER_BATCH, images(0)), res[:1], 0, clf, peer_amp)  # warm-up: kernels at its precision
                for W in peer_workers:
                    n = images(W)
                    label = f"peers' loop (CLIP_benchmark, 5 passes), {W} workers"
                    try: rate, top1 = peer_loop(b, ds, n, res, W, clf, peer_amp)
                    except Exception as e:
                        msg = f'{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ""}'
                        rec['peer'][W] = dict(images=n, batch=PEER_BATCH, error=msg)
                        print(f'{label:52s} {n:7d} {PEER_BATCH:6d}    CRASHED: {msg}')
                        continue
                    peer[W] = (rate, top1)
                    rec['peer'][W] = dict(images=n, batch=PEER_BATCH, images_per_s=rate, amp=peer_amp, top1=top1)
                    row(label, n, PEER_BATCH, rate)
                    note('peers\' loop', W, n, PEER_BATCH)
            else: print(f'peers\' loop: skipped: {why}')

            # the data path alone: a stand-in tower that costs nothing, the real preprocess
            sb = data_path_bundle(b)
            sw = torch.nn.functional.normalize(torch.randn(ds.n_classes, 3, generator=torch.Generator().manual_seed(0)), dim=-1).to(dev)
            dbs = auto_batch_size(sb, len(res))
            dp = {}
            for W in data_workers:
                n = images(W, True, dbs); ensure(n)
                try:
                    with _main_threads(W):  # as evaluate runs its main process on a GPU: the stand-in is no CPU model to feed threads
                        sync(dev); t = time.perf_counter(); r = evaluate(sb, ds, res, limit=n, classifier=sw, workers=W); sync(dev); dt = time.perf_counter() - t
                except Exception as e:
                    msg = f'{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ""}'
                    rec['data_path'][W] = dict(images=n, error=msg)
                    print(f'{f"data path only (stand-in model), {W} workers":52s} {n:7d} {"":6s}    CRASHED: {msg}')
                    continue
                dp[W] = n / dt
                rec['data_path'][W] = dict(images=n, batch=r.settings.get('batch_size', dbs), images_per_s=n / dt)
                row(f'data path only (stand-in model), {W} workers', n, r.settings.get('batch_size', dbs), n / dt)
                note('data path', W, n, r.settings.get('batch_size', dbs))
            del sb

            cp = cpu_part(b, ds, res, n_cpu)
            limit = cores * cp['decode + views (PIL)']
            rec.update(cpu_part=dict(images=n_cpu, **cp), pil_limit=limit)
            print(f'\nCPU part on one core (this process, torch at 1 thread, {n_cpu} images):')
            for k, v in cp.items():
                print(f'  {k:42s} {v:8.1f} images/s/core -> {mo / v:6.1f} cores to feed {m} at model-only speed')
            print(f'  PIL limit = {cores} usable cores x {cp["decode + views (PIL)"]:.1f} = {limit:.1f} images/s')
            for s in rec['notes']: print(f'  note: {s}')

            ratios = rec['ratios'] = {}
            def ratio(key, num, den):
                if num is not None and den: ratios[key] = num / den
            pil = {W: e2e[('pil', W)][0] for W in workers if ('pil', W) in e2e}
            tw = max(workers)
            for W in sorted(set(workers) & set(peer_workers)): ratio(f'lr0fm_pil@{W}/peer@{W}', pil.get(W), peer.get(W, (None,))[0])
            ratio(f'lr0fm_torch@{tw}/peer@{tw}', e2e.get(('torch', tw), (None,))[0], peer.get(tw, (None,))[0])
            ratio(f'lr0fm_pil@{tw}/pil_limit', pil.get(tw), limit)
            ratio(f'data_path@{cores}/data_path@0', dp.get(cores), dp.get(0))
            ratio(f'data_path@{cores}/pil_limit', dp.get(cores), limit)
            for k, (rate, _) in e2e.items(): ratio(f'lr0fm_{k[0]}@{k[1]}/model_only', rate, mo)
            print('\nRATIOS')
            for k, v in ratios.items():
                extra = ' (issue 22 target with 2 workers: >= 1.7)' if k.endswith('/data_path@0') else ''
                print(f'  {k:44s} {v:6.2f}{extra}')
            if not clip_benchmark: print(f'  lr0fm/peer: not measured ({why})')

            # same protocol on both sides: top-1 per view of lr0fm's PIL run and the peer's, same photos
            both = [W for W in peer if ('pil', W) in e2e]
            if both:
                W = max(both); r = e2e[('pil', W)][1]; pm = peer[W][1]
                rec['top1_lr0fm_vs_peer'] = {s['view']: [s['top1'], pm[s['view']]] for s in r.summary}
                print(f'\ntop-1 per view at {W} workers, lr0fm PIL / peer (same photos and protocol; random weights, so near chance): '
                      + ', '.join(f'{s["view"]} {s["top1"]:.4f}/{pm[s["view"]]:.4f}' for s in r.summary))

            if e2e:
                best = max(e2e, key=lambda k: e2e[k][0]); rate, r = e2e[best]
                n = len(r.image_ids)
                labels = r.predictions.drop_duplicates('image_id').set_index('image_id').loc[r.image_ids, 'label'].to_numpy()
                t = time.perf_counter(); summ, _ = score_features(r.features, w, float(b.logit_scale), labels, r.image_ids); dt = time.perf_counter() - t
                same = all(abs(s['top1'] - o['top1']) <= 0.01 for s, o in zip(summ, r.summary))
                rec['rescoring'] = dict(run=f'{best[0]}@{best[1]}', seconds=dt, pass_seconds=n / rate, same_top1=same)
                print(f're-scoring the {best[0].upper()} run\'s saved features: {dt * 1000:.1f} ms vs {n / rate:.1f} s for the pass '
                      f'-> {n / rate / dt:.0f}x faster (top-1 within 1 point of the pass at every resolution: {same})')
            print()
            last = (m, mo, cp['decode + views (PIL)'], cp['decode only (torch backend)'])
            del b; torch.cuda.empty_cache() if gpu else None
    if gpu: record['cores_needed'] = cores_table(*last)  # on a CPU the model is no GPU to keep busy
    print('JSON ' + json.dumps(_rounded(record)))


def cores_table(ref, ref_rate, pil_core, decode_core, n_views=5):
    "Cores each catalogue model needs to stay GPU-bound with each backend, scaling `ref`'s model-only images/s by image GFLOPs."
    from lr0fm.zoo import catalogue
    cat = catalogue()
    hit = cat[(cat.arch == ref) | (cat.arch == f'{ref}-quickgelu') | (cat['name'] == ref)]
    if not len(hit): print(f'cores table: {ref} is not in the catalogue'); return {}
    g0 = float(hit.image_gflops.iloc[0])
    print(f'\nCORES NEEDED (estimate: {ref} measured at {ref_rate:.0f} images/s x {n_views} views, other models scaled by '
          f'image GFLOPs, {g0:.2f} for {ref}; small models reach less than this scaling, so their figures are upper bounds)')
    print(f'{"catalogue model":44s} {"img GFLOPs":>10s} {"images/s":>9s} {"PIL cores":>10s} {"torch cores":>12s}')
    out = {}
    for _, r in cat.sort_values('image_gflops').iterrows():
        rate = ref_rate * g0 / float(r.image_gflops)
        out[r['name']] = dict(images_per_s=rate, pil_cores=rate / pil_core, torch_cores=rate / decode_core)
        print(f'{r["name"]:44s} {float(r.image_gflops):10.2f} {rate:9.0f} {rate / pil_core:10.1f} {rate / decode_core:12.1f}')
    return out


def _rounded(o):
    "The record with floats to 4 significant digits (and keys as strings), for the JSON line."
    if isinstance(o, dict): return {str(k): _rounded(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)): return [_rounded(v) for v in o]
    if isinstance(o, float): return float(f'{o:.4g}')
    return o


if __name__ == '__main__':
    main()
