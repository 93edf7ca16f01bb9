"""Benchmark: how closely the torch resize backend reproduces the PIL views (the paper's protocol), and what
re-scoring saved features costs against a full pass, on the 1,000-photo ImageNet sample.

1. Pixels: for the first --pixel-images photos, every resolution view made both ways, as the uint8 views each
   backend feeds the device (PIL: the transform's PIL half in `make_views`, as the decode workers run it; torch:
   `torch_views_u8`, i.e. `lr0fm.resize.views_u8`, on --device), compared in 8-bit levels: mean and max absolute
   difference and the share of values that are equal; and the time per photo of each way on this machine.
2. Predictions: a seeded random-init open_clip ViT-B-32 (no weights can be downloaded here) evaluates all photos at
   HR, 128, 64, 32, 16 with each backend and the same classifier; the share of images whose top-1 is identical.
   Random-init logits are nearly flat, so this is a harsh test: a small pixel change flips a near-tie.
3. Re-scoring: the PIL pass kept its features (`keep_features`); re-scoring them with the same classifier, and with
   a classifier built from new templates, is timed against the pass plus that classifier build.

    python benchmarks/bench_torch_resize.py [--n-images 1000] [--pixel-images 100] [--device cpu]

Results are recorded in benchmarks/RESULTS.md with the machine and date.
"""
import argparse, os, platform, sys, time
os.environ.setdefault('HF_HUB_OFFLINE', '1')
import numpy as np, torch


def main():
    from lr0fm.core import shared_data_path
    from lr0fm.data import imagenet_meta
    from lr0fm.registry import get_dataset
    from lr0fm.degrade import DEFAULT_RESOLUTIONS, lr_transform, resize_mode_for, make_views, res_label
    from lr0fm.registry import load_model
    from lr0fm.zeroshot import evaluate, build_classifier, score_features, torch_pipeline, torch_views_u8, ViewPrep, _chw
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--root', default=os.environ.get('LR0FM_IMAGENET_SAMPLE') or shared_data_path('imagenet-sample'))
    ap.add_argument('--n-images', type=int, default=1000)
    ap.add_argument('--pixel-images', type=int, default=100)
    ap.add_argument('--batch-size', type=int, default=32)
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--workers', type=int, default=None, help='decode workers for both passes (default: evaluate\'s auto_workers)')
    a = ap.parse_args()
    if a.root is None: sys.exit('no ImageNet sample found: pass --root DIR (the folder with labels.csv and the JPEGs)')
    meta, res = imagenet_meta(), DEFAULT_RESOLUTIONS
    ds = get_dataset('imagenet-sample', a.root, templates=meta['templates'][:1])
    n = min(a.n_images, len(ds))
    b = load_model('ViT-B-32', seed=0, device=a.device)
    print(f'lr0fm torch-resize benchmark  {time.strftime("%Y-%m-%d %H:%M")}  {platform.machine()}  {os.cpu_count()} CPUs  '
          f'torch {torch.__version__}  device {a.device}')
    print(f'random-init ViT-B-32, {n} ImageNet-sample photos, resolutions {res}\n')

    tf, rm, pipe = lr_transform(b), resize_mode_for(b.meta), torch_pipeline(b)
    worker = ViewPrep(tf).worker
    diffs, t_p, t_t, sizes = {res_label(r): [] for r in res}, 0., 0., []
    for i in range(min(a.pixel_images, n)):
        img = ds.load(i); sizes.append(max(img.size))
        t = time.perf_counter(); pv = make_views(img, res, worker, rm); t_p += time.perf_counter() - t
        u8 = _chw(img)
        t = time.perf_counter(); tv = torch_views_u8([u8], res, pipe, a.device)[0].cpu(); t_t += time.perf_counter() - t
        for k, r in enumerate(res): diffs[res_label(r)].append((pv[k].int() - tv[k].int()).abs().flatten())
    m = min(a.pixel_images, n)
    print(f'1. view pixels, torch ({a.device}) vs PIL, first {m} photos (largest side {min(sizes)}-{max(sizes)} px; 8-bit levels)')
    print(f'{"view":>6s} {"mean |d|":>9s} {"max |d|":>8s} {"equal":>8s}')
    for k, d in diffs.items():
        d = torch.cat(d)
        print(f'{k:>6s} {d.float().mean():9.4f} {d.max():8d} {100 * (d == 0).float().mean():7.3f}%')
    print(f'time per photo, all views, one at a time: PIL {1000 * t_p / m:.1f} ms, torch ({a.device}, {torch.get_num_threads()} threads) {1000 * t_t / m:.1f} ms')

    w = build_classifier(b, ds.classnames, ds.templates)
    t = time.perf_counter(); pil = evaluate(b, ds, res, classifier=w, limit=n, batch_size=a.batch_size, keep_features=True, workers=a.workers); t_pil = time.perf_counter() - t
    t = time.perf_counter(); tor = evaluate(b, ds, res, classifier=w, limit=n, batch_size=a.batch_size, resize_backend='torch', workers=a.workers); t_torch = time.perf_counter() - t
    pp = pil.predictions.set_index(['image_id', 'view']).sort_index()
    tp = tor.predictions.set_index(['image_id', 'view']).sort_index()
    print(f'\n2. top-1 identical, torch vs PIL backend ({n} photos; pass times PIL {t_pil:.0f} s, torch {t_torch:.0f} s)')
    print(f'{"view":>6s} {"identical top-1":>16s} {"same top-5 set":>15s} {"classes predicted":>18s} {"top-1 PIL %":>12s} {"top-1 torch %":>14s}')
    worst = 100.
    for r in res:
        k = res_label(r)
        a_, b_ = pp.xs(k, level='view'), tp.xs(k, level='view')
        same = (a_.pred_1 == b_.pred_1).mean() * 100
        cols = [f'pred_{j}' for j in range(1, 6)]
        same5 = np.mean([set(x) == set(y) for x, y in zip(a_[cols].to_numpy(), b_[cols].to_numpy())]) * 100
        distinct = a_.pred_1.nunique()  # a collapsed random-init model (one class for all) would agree trivially
        worst = min(worst, same)
        a1 = next(s['top1'] for s in pil.summary if s['view'] == k); a2 = next(s['top1'] for s in tor.summary if s['view'] == k)
        print(f'{k:>6s} {same:15.2f}% {same5:14.2f}% {distinct:18d} {100 * a1:12.2f} {100 * a2:14.2f}')
    print(f'RESULT worst-resolution identical top-1 = {worst:.2f} %   (target >= 99 %)')

    labels = pil.predictions.drop_duplicates('image_id').set_index('image_id').loc[pil.image_ids, 'label'].to_numpy()
    scale = float(b.logit_scale)
    t = time.perf_counter(); s1, _ = score_features(pil.features, w, scale, labels, pil.image_ids); t_same = time.perf_counter() - t
    new = meta['templates'][1:2]
    t = time.perf_counter(); w2 = build_classifier(b, ds.classnames, new); t_cls = time.perf_counter() - t
    t = time.perf_counter(); score_features(pil.features, w2, scale, labels, pil.image_ids); t_new = time.perf_counter() - t
    agree = max(abs(x['top1'] - y['top1']) for x, y in zip(s1, pil.summary)) * 100
    print(f'\n3. re-scoring the PIL pass\'s saved features ({n} photos x {len(res)} views, float16)')
    print(f'  same classifier:            {t_same:7.2f} s   vs pass {t_pil:6.0f} s   -> {t_pil / t_same:6.0f}x faster  (top-1 differs by at most {agree:.2f} points)')
    print(f'  new templates {new!r}: classifier {t_cls:.1f} s + scoring {t_new:.2f} s   vs pass + classifier {t_pil + t_cls:.0f} s'
          f'   -> {(t_pil + t_cls) / (t_cls + t_new):.0f}x faster')


if __name__ == '__main__':
    main()
