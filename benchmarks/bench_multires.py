"""Benchmark: lr0fm's multi-resolution zero-shot evaluation against the naive way, in one run.

Naive = what one gets by running an ordinary zero-shot script once per resolution: each pass builds the text
classifier (open_clip's `build_zero_shot_classifier`: 10 classes per text-encoder call over the full 77-token
context), decodes every image again, degrades it, preprocesses it and classifies it.
Ours = `lr0fm.zeroshot.evaluate`: one classifier build (batched across classes, trailing padding skipped), every
image decoded once and all its resolution views made from that decode.

The model is a seeded random-init open_clip ViT-B-32 (no weights can be downloaded here); the image data is the
1,000-photo ImageNet sample (`--root`, default ../shared/data/imagenet-sample). Both ways must give identical
predictions; the script checks that. It prints the time of each part and the ratios ours / naive. On a GPU machine pass --device cuda.

    python benchmarks/bench_multires.py [--n-images 1000] [--templates 1] [--classes 1000] [--text-80]

`--text-80` also times building the classifier for 1,000 classes x 80 templates (ours; on 2 CPU cores this takes
tens of minutes). Results are recorded in benchmarks/RESULTS.md with the machine and date.
"""
import argparse, os, platform, sys, time
os.environ.setdefault('HF_HUB_OFFLINE', '1')
import numpy as np, torch


def naive_classifier(b, classnames, templates):
    "open_clip's own `build_zero_shot_classifier` (10 classes per text-encoder call, full 77-token context)."
    import open_clip
    return open_clip.build_zero_shot_classifier(b.model, tokenizer=b.tokenizer, classnames=classnames, templates=templates,
                                                num_classes_per_batch=10, device=b.device, use_tqdm=False).T


def naive_pass(b, ds, r, w, n, batch_size, tf, rm):
    "One full pass at one resolution: decode each image again, degrade, preprocess, classify."
    from lr0fm.degrade import degrade
    preds = []
    with torch.no_grad():
        for s in range(0, n, batch_size):
            x = torch.stack([tf(ds.load(i) if r == 'HR' else degrade(ds.load(i), r, rm)) for i in range(s, min(n, s + batch_size))])
            preds.append((b.logit_scale * b.encode_image(x.to(b.device)) @ w.T).argmax(-1).cpu())
    return torch.cat(preds).numpy()


def main():
    from lr0fm.core import shared_data_path
    from lr0fm.data import imagenet_meta
    from lr0fm.registry import get_dataset
    from lr0fm.degrade import lr_transform, resize_mode_for, DEFAULT_RESOLUTIONS
    from lr0fm.registry import load_model
    from lr0fm.zeroshot import evaluate, build_classifier, _CLASSIFIERS
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--root', default=os.environ.get('LR0FM_IMAGENET_SAMPLE') or shared_data_path('imagenet-sample'))
    ap.add_argument('--n-images', type=int, default=1000)
    ap.add_argument('--classes', type=int, default=1000, help='use only the first N ImageNet classes (and their images); for smoke runs')
    ap.add_argument('--templates', type=int, default=1, help='number of the 80 CLIP ImageNet templates used in the timed passes')
    ap.add_argument('--batch-size', type=int, default=32)
    ap.add_argument('--device', default='cpu', help='cpu or cuda')
    ap.add_argument('--threads', type=int, default=0, help='torch threads (0: torch default)')
    ap.add_argument('--text-80', action='store_true', help='also time our 1,000 x 80 classifier build')
    a = ap.parse_args()
    if a.root is None: sys.exit('no ImageNet sample found: pass --root DIR (the folder with labels.csv and the JPEGs)')
    if a.threads: torch.set_num_threads(a.threads)
    meta = imagenet_meta()
    tmpl = meta['templates'][:a.templates]
    ds = get_dataset('imagenet-sample', a.root, templates=tmpl)
    if a.classes < 1000:
        ds.classnames = ds.classnames[:a.classes]
        ds.items = [(p, l) for p, l in ds.items if l < a.classes]
    n, res = min(a.n_images, len(ds)), DEFAULT_RESOLUTIONS
    b = load_model('ViT-B-32', seed=0, device=a.device)
    tf, rm = lr_transform(b), resize_mode_for(b.meta)
    print(f'lr0fm multi-resolution benchmark  {time.strftime("%Y-%m-%d %H:%M")}  {platform.processor() or platform.machine()}  '
          f'{os.cpu_count()} CPUs, torch {torch.__version__} ({torch.get_num_threads()} threads), device {a.device}')
    print(f'random-init ViT-B-32, {n} ImageNet-sample photos, {len(ds.classnames)} classes x {len(tmpl)} template(s), resolutions {res}\n')

    t = time.time(); w_naive = naive_classifier(b, ds.classnames, tmpl); t_cls_naive = time.time() - t
    t = time.time(); w_ours = build_classifier(b, ds.classnames, tmpl); t_cls_ours = time.time() - t
    assert torch.allclose(w_naive.float(), w_ours.float(), atol=1e-4 if a.device == 'cpu' else 2e-2), 'classifiers differ'

    t_naive_img, naive_preds = 0., []
    for r in res:
        t = time.time(); naive_preds.append(naive_pass(b, ds, r, w_naive, n, a.batch_size, tf, rm)); t_naive_img += time.time() - t
    t = time.time(); out = evaluate(b, ds, res, classifier=w_ours, limit=n, batch_size=a.batch_size); t_ours_img = time.time() - t
    ours_preds = out.predictions.pivot(index='image_id', columns='view', values='pred_1')
    ids = [ds.image_id(i) for i in range(n)]
    agree = np.mean([(ours_preds.loc[ids, str(r)].to_numpy() == p).mean() for r, p in zip(res, naive_preds)])

    naive_total = len(res) * t_cls_naive + t_naive_img
    ours_total = t_cls_ours + t_ours_img
    print(f'{"part":46s} {"naive s":>9s} {"ours s":>9s} {"ours/naive":>10s}')
    print(f'{"text classifier, one build":46s} {t_cls_naive:9.1f} {t_cls_ours:9.1f} {t_cls_ours / t_cls_naive:10.2f}')
    print(f'{"image passes, all resolutions":46s} {t_naive_img:9.1f} {t_ours_img:9.1f} {t_ours_img / t_naive_img:10.2f}')
    print(f'{"whole evaluation (naive rebuilds per pass)":46s} {naive_total:9.1f} {ours_total:9.1f} {ours_total / naive_total:10.2f}')
    print(f'\nidentical top-1 predictions, ours vs naive: {100 * agree:.2f} %')
    print(f'RATIO ours/naive (whole evaluation) = {ours_total / naive_total:.2f}   (target <= 0.6)')

    if a.text_80:
        _CLASSIFIERS.clear()
        t = time.time(); build_classifier(b, ds.classnames, meta['templates']); t80 = time.time() - t
        print(f'\ntext classifier {len(ds.classnames)} classes x 80 templates (ours): {t80:.0f} s '
              f'({len(ds.classnames) * 80 / t80:.0f} prompts/s)')


if __name__ == '__main__':
    main()
