"""Cost of LR tokens in an LR-TK0 training step and at inference, against the same model without tokens, measured in one run.

Training step (what `lr0fm.train.train_tokens` does per batch): teacher forward on the HR view, student forward on the HR view
and three LR views, backward, optimizer step. Baseline: the same step through the same frozen model with no tokens, where the
patch-embedding output is made a leaf that requires gradients, so the backward pass runs through every block down to the
patch embedding, as deep as it must go to reach the first token (no weight gradients in either case, no gradient into the
image). Inference: `encode_image` of one batch with and without tokens.

Usage: python benchmarks/bench_lrtk0_step.py [--model ViT-B-16] [--device cuda] [--batch 128] [--iters 20]
Random-init weights (no download). Prints the ratios tokens / baseline; both are timed in this process, interleaved.
"""
import argparse, json, time, platform, datetime
import torch
from lr0fm.registry import load_model
from lr0fm.lrtk0 import LRTokens, vit_spec
from lr0fm.train import distill_loss, info_nce
from lr0fm.zeroshot import _autocast

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--model', default='ViT-B-16'); ap.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    ap.add_argument('--batch', type=int, default=128); ap.add_argument('--iters', type=int, default=20); ap.add_argument('--warmup', type=int, default=5)
    ap.add_argument('--json', default=None)
    a = ap.parse_args()
    dev = a.device
    b = load_model(a.model, device=dev, seed=0)
    model = b.model.eval()
    for p in model.parameters(): p.requires_grad_(False)
    S = b.input_size
    views = torch.randn(a.batch, 4, 3, S, S, device=dev)
    tk = LRTokens(vit_spec(model, a.model), seed=0)
    opt = torch.optim.AdamW(list(tk.tokens.values()) + [tk.logit_scale], lr=1e-3)
    scale = torch.tensor(4.6, device=dev)

    def step_tokens():
        with _autocast(dev): loss, _ = distill_loss(model, tk, views)
        opt.zero_grad(set_to_none=True); loss.backward(); opt.step()

    base_on = [False]  # the leaf hook acts in the baseline step only
    vit_spec(model).embed.register_forward_hook(lambda m, i, o: o.detach().requires_grad_(True) if base_on[0] and torch.is_grad_enabled() else None)
    def step_base():
        base_on[0] = True
        try: _step_base()
        finally: base_on[0] = False
    def _step_base():
        B, V = views.shape[:2]
        with _autocast(dev):
            with torch.no_grad(): t = model.encode_image(views[:, 0])
            s = model.encode_image(views.flatten(0, 1)).view(B, V, -1)
            loss = sum(info_nce(t, s[:, k], scale) for k in range(V))
        loss.backward()

    x = views[:, 0].contiguous()
    def infer_tokens():
        with torch.no_grad(), _autocast(dev), tk.on(): model.encode_image(x)
    def infer_base():
        with torch.no_grad(), _autocast(dev): model.encode_image(x)

    def timed(fn):
        if dev.startswith('cuda'): torch.cuda.synchronize()
        t0 = time.perf_counter(); fn()
        if dev.startswith('cuda'): torch.cuda.synchronize()
        return time.perf_counter() - t0

    res = {}
    for name, f_tok, f_base in [('train_step', step_tokens, step_base), ('inference', infer_tokens, infer_base)]:
        for _ in range(a.warmup): f_tok(); f_base()
        tt, tb = [], []
        for _ in range(a.iters):  # interleaved, so drifts in clock or temperature hit both alike
            tt.append(timed(f_tok)); tb.append(timed(f_base))
        med = lambda l: sorted(l)[len(l) // 2]
        res[name] = dict(tokens_s=med(tt), base_s=med(tb), ratio=med(tt) / med(tb))
        print(f'{name:10s}  with tokens {1000 * med(tt):8.1f} ms   without {1000 * med(tb):8.1f} ms   ratio {med(tt) / med(tb):.3f}', flush=True)
    info = dict(model=a.model, device=dev, gpu=torch.cuda.get_device_name() if dev.startswith('cuda') else platform.processor() or 'cpu',
                torch=torch.__version__, batch=a.batch, views=4, input_size=S, token_values=tk.n_params(), iters=a.iters,
                date=datetime.date.today().isoformat(), **res)
    print(json.dumps(info))
    if a.json: open(a.json, 'w').write(json.dumps(info, indent=1))

if __name__ == '__main__': main()
