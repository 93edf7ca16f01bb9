"""LR-TK0 on the embedded TOY model (seeded): a short training run must raise 16 px top-1 on the colour x texture demo set
clearly while HR stays within 2 points. About two minutes on 2 CPU cores; the full table is in nbs/13_lrtk0_demo.ipynb."""
import torch
from lr0fm.registry import load_model
from lr0fm.train import train_tokens, ProceduralSource
from lr0fm.zeroshot import evaluate
from lr0fm.synthetic import procedural_dataset


def _top1(bundle, ds):
    return {s['view']: 100 * s['top1'] for s in evaluate(bundle, ds, ['HR', 16]).summary}


def test_lr_tokens_raise_16px_on_toy_model(tmp_path):
    torch.manual_seed(0)
    base = load_model('lr0fm-mini-s')
    ds = procedural_dataset('demo-colour-texture', per_class=30)
    before = _top1(base, ds)
    tb, log = train_tokens(base, ProceduralSource(4800, 224, 0), tmp_path, steps=150, batch_size=32, lr=1.5e-3, seed=0,
                           heldout=False, progress=False, log=lambda m: None)
    after = _top1(tb, ds)
    print(f'TOY model lr0fm-mini-s, demo-colour-texture top-1 %: base {before}, LR-TK0 {after}')
    assert log.loss.iloc[-1] < log.loss.iloc[0]
    assert after['16'] >= before['16'] + 5, (before, after)
    assert after['HR'] >= before['HR'] - 2, (before, after)
