"""Benchmark: how closely the torch resize backend reproduces the PIL views (the paper's protocol), and what
re-scoring saved features costs against a full pass, on the 1,000-photo ImageNet sample.

1. Pixels: for the first --pixel-images photos, every resolution view made both ways (PIL: `make_views`; torch:
   `torch_views` on the CPU), compared in 8-bit levels after undoing the normalisation: mean and max absolute
   difference, and the share of values within half a level (equal after rounding).
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
    from lr0fm.zeroshot import evaluate, build_classifier, score_features, torch_pipeline, torch_views
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--root', default=os.environ.get('LR0FM_IMAGENET_SAMPLE') or shared_data_path('imagenet-sample'))
    ap.add_argument('--n-images', type=int, default=1000)
    ap.add_argument('--pixel-images', type=int, default=100)
    ap.add_argument('--batch-size', type=int, default=32)
    ap.add_argument('--device', default='cpu')
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
    mean, std = torch.tensor(pipe.mean).view(3, 1, 1), torch.tensor(pipe.std).view(3, 1, 1)
    diffs = {res_label(r): [] for r in res}
    for i in range(min(a.pixel_images, n)):
        img = ds.load(i)
        pv = make_views(img, res, tf, rm)
        u8 = torch.from_numpy(np.array(img.convert('RGB'), dtype=np.uint8)).permute(2, 0, 1)
        tv = torch_views([u8], res, pipe, 'cpu')[0]
        for k, r in enumerate(res): diffs[res_label(r)].append(((pv[k] - tv[k]) * std * 255).abs().flatten())
    print(f'1. view pixels, torch vs PIL, first {min(a.pixel_images, n)} photos (8-bit levels)')
    print(f'{"view":>6s} {"mean |d|":>9s} {"max |d|":>8s} {"within 0.5":>11s}')
    for k, d in diffs.items():
        d = torch.cat(d)
        print(f'{k:>6s} {d.mean():9.3f} {d.max():8.1f} {100 * (d <= 0.5).float().mean():10.2f}%')

    w = build_classifier(b, ds.classnames, ds.templates)
    t = time.perf_counter(); pil = evaluate(b, ds, res, classifier=w, limit=n, batch_size=a.batch_size, keep_features=True); t_pil = time.perf_counter() - t
    t = time.perf_counter(); tor = evaluate(b, ds, res, classifier=w, limit=n, batch_size=a.batch_size, resize_backend='torch'); t_torch = time.perf_counter() - t
    pp = pil.predictions.set_index(['image_id', 'resolution']).sort_index()
    tp = tor.predictions.set_index(['image_id', 'resolution']).sort_index()
    print(f'\n2. top-1 identical, torch vs PIL backend ({n} photos; pass times PIL {t_pil:.0f} s, torch {t_torch:.0f} s)')
    print(f'{"view":>6s} {"identical top-1":>16s} {"same top-5 set":>15s} {"classes predicted":>18s} {"top-1 PIL %":>12s} {"top-1 torch %":>14s}')
    worst = 100.
    for r in res:
        k = res_label(r)
        a_, b_ = pp.xs(k, level='resolution'), tp.xs(k, level='resolution')
        same = (a_.pred_1 == b_.pred_1).mean() * 100
        cols = [f'pred_{j}' for j in range(1, 6)]
        same5 = np.mean([set(x) == set(y) for x, y in zip(a_[cols].to_numpy(), b_[cols].to_numpy())]) * 100
        distinct = a_.pred_1.nunique()  # a collapsed random-init model (one class for all) would agree trivially
        worst = min(worst, same)
        a1 = next(s['top1'] for s in pil.summary if str(s['resolution']) == k); a2 = next(s['top1'] for s in tor.summary if str(s['resolution']) == k)
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
