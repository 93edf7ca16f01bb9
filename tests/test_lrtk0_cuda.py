"""GPU checks of LR-TK0 (skipped without CUDA): tokens train under autocast on the GPU, the base stays frozen, and a GPU-trained
checkpoint gives the same features on the CPU."""
import tempfile
from pathlib import Path
import pytest, torch

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA GPU')

from lr0fm.registry import load_model
from lr0fm.lrtk0 import load_tokens
from lr0fm.train import train_tokens, ProceduralSource
from lr0fm.zeroshot import evaluate, _autocast
from lr0fm.synthetic import procedural_dataset

def test_train_on_gpu_and_reload_on_cpu(tmp_path):
    b = load_model('lr0fm-mini-s', device='cuda')
    before = {k: v.clone() for k, v in b.model.state_dict().items()}
    tb, h = train_tokens(b, ProceduralSource(64, 224), tmp_path, steps=6, batch_size=16, heldout=False, log_every=2, progress=False)
    assert all(torch.equal(v, b.model.state_dict()[k]) for k, v in before.items())
    assert all(p.device.type == 'cuda' for p in tb.model.lr_tokens.tokens.values())
    assert h.loss.notna().all()
    x = torch.randn(4, 3, 224, 224)
    with torch.no_grad(): g = tb.encode_image(x.cuda()).cpu()
    c = load_tokens(tmp_path / 'tokens.safetensors', load_model('lr0fm-mini-s')).encode_image(x)
    assert torch.cosine_similarity(g, c).min() > 0.9999
    with torch.no_grad(), _autocast('cuda'): gh = tb.encode_image(x.cuda()).float().cpu()
    assert torch.cosine_similarity(gh, c).min() > 0.99
    r = evaluate(tb, procedural_dataset('demo-colours', per_class=2), ['HR', 16])
    assert len(r.predictions) == 2 * 20
