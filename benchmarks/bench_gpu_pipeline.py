"""Benchmark: does lr0fm's data path keep the image encoder busy? Model-only vs end-to-end, in one run.

For each model (random init, seeded: no weights are downloaded):
  model-only   the image tower alone on ready-made (B, 3, S, S) tensors, at the precision `evaluate` uses;
               reported as images/s = views/s divided by the number of resolution views per image.
  end-to-end   `lr0fm.zeroshot.evaluate` over real photos at all resolutions (classifier prebuilt, not timed):
               the PIL backend (the paper's protocol) at each worker count W, and the torch backend (decode on
               CPU, views on the device).
  ratio        end-to-end / model-only: 1.0 means the data path costs nothing.
It also measures the CPU part alone in this process (one core): decode + all PIL views per image, and decode only
(what the torch backend leaves to the CPU), and from them the cores a model needs to stay GPU-bound. Finally it
re-scores the end-to-end run's saved features (`score_features`) and prints how much faster that is than the pass.

    python benchmarks/bench_gpu_pipeline.py                      # CPU: tiny (32 photos, ViT-B-32, W = 0 and all cores)
    python benchmarks/bench_gpu_pipeline.py --device cuda        # GPU: 2,048 photos, ViT-B-32 and ViT-B-16, W = 0, 4, 8, all

Photos: the 1,000-photo ImageNet sample (`--root`, default ../shared/data/imagenet-sample, repeated to reach
--n-images); without it, procedurally drawn JPEGs of ImageNet-like sizes. Record results in benchmarks/RESULTS.md
with the machine and date.
"""
import argparse, os, platform, sys, tempfile, time
os.environ.setdefault('HF_HUB_OFFLINE', '1')
import numpy as np, torch


def photo_dataset(root, n, tmp):
    "The ImageNet sample repeated to n images, or n procedural JPEGs (sizes 200-500 px) in an image folder."
    from lr0fm.data import imagenet_meta
    from lr0fm.registry import get_dataset
    if root:
        ds = get_dataset('imagenet-sample', root, templates=imagenet_meta()['templates'][:1])
        ds.items = [ds.items[i % len(ds.items)] for i in range(n)]
        return ds, 'ImageNet-sample photos'
    from PIL import Image
    g = np.random.default_rng(0)
    for i in range(n):
        d = os.path.join(tmp, f'class{i % 10}'); os.makedirs(d, exist_ok=True)
        h, w = g.integers(200, 500, 2)
        x = np.cumsum(g.normal(0, 8, (h, w, 3)), axis=1)  # smooth-ish rows, so JPEG sizes are photo-like
        Image.fromarray(np.uint8(np.clip(x - x.min(axis=1, keepdims=True), 0, 255))).save(os.path.join(d, f'{i}.jpg'), quality=90)
    return get_dataset('imagefolder', tmp), 'procedural JPEGs (no ImageNet sample found)'


def sync(dev):
    if dev.type == 'cuda': torch.cuda.synchronize()


def model_only(b, n_views, batch, reps):
    "Images/s of the image tower alone (views/s / n_views), at evaluate's precision."
    from lr0fm.zeroshot import _autocast
    s = b.meta.get('image_size', 224); s = s[0] if isinstance(s, (tuple, list)) else s
    x = torch.randn(batch, 3, s, s, device=b.device)
    with torch.no_grad(), _autocast(b.device, b.meta.get('amp_dtype')):
        for _ in range(2): b.encode_image(x)
        sync(b.device); t = time.perf_counter()
        for _ in range(reps): b.encode_image(x)
        sync(b.device); dt = time.perf_counter() - t
    return reps * batch / dt / n_views


def cpu_part(b, ds, res, n):
    "Images/s on one core (this process): decode + every PIL view, and decode only."
    from lr0fm.degrade import lr_transform, resize_mode_for
    from lr0fm.zeroshot import _ViewSet
    out = {}
    for name, only in (('decode + views (PIL)', False), ('decode only (torch backend)', True)):
        vs = _ViewSet(ds, range(n), res, lr_transform(b), resize_mode_for(b.meta), decode_only=only)
        t = time.perf_counter()
        for k in range(n): vs[k]
        out[name] = n / (time.perf_counter() - t)
    return out


def main():
    from lr0fm.core import shared_data_path
    from lr0fm.degrade import DEFAULT_RESOLUTIONS
    from lr0fm.registry import load_model
    from lr0fm.zeroshot import evaluate, build_classifier, score_features, usable_cores, auto_batch_size
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--root', default=os.environ.get('LR0FM_IMAGENET_SAMPLE') or shared_data_path('imagenet-sample'))
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--models', nargs='+', default=None, help='default: ViT-B-32 on CPU, ViT-B-32 ViT-B-16 on GPU')
    ap.add_argument('--n-images', type=int, default=None, help='default: 32 on CPU, 2048 on GPU')
    ap.add_argument('--workers', type=int, nargs='+', default=None, help='PIL worker counts (default: 0 and all cores on CPU; 0 4 8 all on GPU)')
    ap.add_argument('--batch-size', type=int, default=None, help='default: auto_batch_size (32 on CPU)')
    ap.add_argument('--cpu-images', type=int, default=None, help='images for the one-core CPU-part rate (default: min(n, 200); the sample is repeated when larger)')
    a = ap.parse_args()
    dev = torch.device(a.device); gpu = dev.type == 'cuda'
    cores = usable_cores()
    models = a.models or (['ViT-B-32', 'ViT-B-16'] if gpu else ['ViT-B-32'])
    n = a.n_images or (2048 if gpu else 32)
    workers = a.workers if a.workers is not None else sorted({0, 4, 8, cores} if gpu else {0, cores})
    res = DEFAULT_RESOLUTIONS
    gpu_name = torch.cuda.get_device_name(dev) if gpu else 'no GPU'
    print(f'lr0fm GPU-pipeline benchmark  {time.strftime("%Y-%m-%d %H:%M")}  {platform.machine()}  {cores} usable cores  '
          f'torch {torch.__version__}  device {dev} ({gpu_name})')
    with tempfile.TemporaryDirectory() as tmp:
        n_cpu = a.cpu_images or min(n, 200)
        ds, src = photo_dataset(a.root, max(n, n_cpu), tmp)
        print(f'{n} images ({src}), resolutions {res}, models random-init {models}\n')
        for m in models:
            b = load_model(m, seed=0, device=str(dev))
            bs = a.batch_size or auto_batch_size(b, len(res))
            w = build_classifier(b, ds.classnames, ds.templates)
            mo = model_only(b, len(res), bs * len(res) if gpu else bs, 20 if gpu else 2)
            print(f'== {m}  batch {bs} images ({bs * len(res)} views)  precision {"bf16/fp16 autocast" if gpu else "float32"}')
            print(f'{"way":44s} {"images/s":>10s} {"x model-only":>13s}')
            print(f'{"model only (views/s / " + str(len(res)) + ")":44s} {mo:10.1f} {1:13.2f}')
            runs = [('pil', W) for W in workers] + [('torch', max(workers))]
            e2e = {}
            for backend, W in runs:
                kw = dict(classifier=w, batch_size=bs, workers=W, resize_backend=backend, keep_features=True)
                if gpu: evaluate(b, ds, res, limit=min(n, 2 * bs), **kw)  # warm-up: kernels, cudnn plans
                sync(dev); t = time.perf_counter(); r = evaluate(b, ds, res, limit=n, **kw); sync(dev); dt = time.perf_counter() - t
                e2e[(backend, W)] = (n / dt, r)
                print(f'{f"end-to-end {backend.upper()} backend, {W} workers":44s} {n / dt:10.1f} {n / dt / mo:13.2f}')
            cp = cpu_part(b, ds, res, n_cpu)
            print(f'\nCPU part on one core (this process, {n_cpu} images):')
            for k, v in cp.items():
                print(f'  {k:42s} {v:8.1f} images/s/core -> {mo / v:6.1f} cores to feed {m} at model-only speed')
            best = max(e2e, key=lambda k: e2e[k][0]); rate, r = e2e[best]
            labels = r.predictions.drop_duplicates('image_id').set_index('image_id').loc[r.image_ids, 'label'].to_numpy()
            t = time.perf_counter(); summ, _ = score_features(r.features, w, float(b.logit_scale), labels, r.image_ids); dt = time.perf_counter() - t
            same = all(abs(s['top1'] - o['top1']) <= 0.01 for s, o in zip(summ, r.summary))
            print(f'\nre-scoring the {best[0].upper()} run\'s saved features: {dt * 1000:.1f} ms vs {n / rate:.1f} s for the pass '
                  f'-> {n / rate / dt:.0f}x faster (top-1 within 1 point of the pass at every resolution: {same})')
            print(f'RATIO end-to-end/model-only: ' + ', '.join(f'{k[0]}@{k[1]}w {v[0] / mo:.2f}' for k, v in e2e.items()) + '\n')
            del b; torch.cuda.empty_cache() if gpu else None


if __name__ == '__main__':
    main()
