"""Layer-wise HR-vs-LR similarity (minibatch CKA, cosine) on real photos, with `lr0fm.internals.layer_similarity`.

A randomly initialised (seeded) open_clip ViT-B-32 -- no weights are downloaded -- on the first N photos of the
1,000-photo ImageNet sample, at HR against 16x16 and 32x32. A random classifier stands in for the text tower (the
layer statistics do not depend on it, and 1,000 classes x 80 templates through a text tower would dominate the time).
Prints the per-layer diagonals (HR block i vs LR block i) and the timing; skipped when the sample is absent.

    python benchmarks/internals_sample.py                       # 64 photos, mean-token pooling, CPU
    python benchmarks/internals_sample.py --n 256 --pool tokens --device cuda
    python benchmarks/internals_sample.py --tokens              # also with random (untrained) LR tokens on

Photos: --root, else $LR0FM_SHARED_DATA/imagenet-sample, else ../shared/data/imagenet-sample.
"""
import argparse, os, sys, time
os.environ.setdefault('HF_HUB_OFFLINE', '1')
import numpy as np, torch


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--root', default=None)
    ap.add_argument('--model', default='ViT-B-32')
    ap.add_argument('--n', type=int, default=64)
    ap.add_argument('--batch-size', type=int, default=32)
    ap.add_argument('--pool', default='mean', choices=['mean', 'cls', 'tokens'])
    ap.add_argument('--resolutions', default='HR,16,32')
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--tokens', action='store_true', help='also measure with random LR tokens (std 0.02, seed 0)')
    a = ap.parse_args(argv)
    from lr0fm.core import shared_data_path
    from lr0fm.registry import get_dataset
    from lr0fm.registry import load_model
    from lr0fm.internals import layer_similarity
    root = a.root or shared_data_path('imagenet-sample')
    if root is None or not os.path.exists(os.path.join(root, 'labels.csv')):
        print('no ImageNet sample found (--root, $LR0FM_SHARED_DATA/imagenet-sample or ../shared/data/imagenet-sample); skipped')
        return 0
    torch.manual_seed(0)
    ds = get_dataset('imagenet-sample', root, templates=['a photo of a {}.'])
    b = load_model(a.model, device=a.device, seed=0)
    g = torch.Generator().manual_seed(0)
    dim = b.model.visual.output_dim
    w = torch.nn.functional.normalize(torch.randn(ds.n_classes, dim, generator=g), dim=-1)
    bundles = [b]
    if a.tokens:
        from lr0fm.lrtk0 import LRTokens, vit_spec, with_tokens
        bundles.append(with_tokens(b, LRTokens(vit_spec(b.model), seed=0)))
    print(f'{a.model} ({b.meta["pretrained"]}), {a.n} photos of {root}, pool={a.pool}, batch {a.batch_size}, '
          f'{torch.get_num_threads()} threads, device {a.device}')
    for bb in bundles:
        t0 = time.time()
        s = layer_similarity(bb, ds, a.resolutions.split(','), pool=a.pool, batch_size=a.batch_size, limit=a.n, classifier=w, workers=0)
        dt = time.time() - t0
        print(f'\n{bb.name}: {dt:.1f} s for {len(s.result.image_ids)} photos x {len(s.cka) + 1} views')
        for r in s.cka:
            print(f'  HR vs {r:>3}  CKA    ' + ' '.join(f'{v:.3f}' for v in s.diagonal()[r]))
            print(f'  HR vs {r:>3}  cosine ' + ' '.join(f'{v:.3f}' for v in s.diagonal('cosine')[r]))
    return 0


if __name__ == '__main__':
    sys.exit(main())
