"""Hostile and damaged checkpoint files: no checkpoint reader runs code from a file, and every damaged file is one line.

The readers (prose in nbs/03_models "Reading checkpoint files safely", 03b_hf_models, 10_lrtk0, 11_train): open_clip
checkpoints (`lr0fm.registry.load_model(..., checkpoint=)`), the BLIP / ALBEF / M2-Encoder files (`lr0fm.hf_models.read_state_dict`),
tokens checkpoints (`lr0fm.lrtk0.load_tokens`) and the trainer's resume state (`lr0fm.train.restore_train_state`).
(a) pickle payloads that would create a marker file are refused by each reader, and through `lr0fm_eval`;
(b) checkpoints holding the allow-listed types (numpy scalars beside the weights, OrderedDict, plain configs, optimizer
states, a TorchScript archive) load; (c) a seeded fuzz pass of byte damage (flipped bits, truncations, zeroed and random
ranges, appended bytes) to a safetensors checkpoint, a .pt state dict, a TorchScript archive, a training checkpoint, a
tokens checkpoint and a resume state: each load succeeds or raises one line of `Lr0fmError` naming the file. The counts
are printed (run with -s); anything else fails the test.
"""
import os, pickle, random, subprocess, sys, zipfile
os.environ.setdefault('HF_HUB_OFFLINE', '1')
from collections import OrderedDict
from pathlib import Path
import numpy as np, pytest, torch
from lr0fm.core import Lr0fmError

BIN = Path(sys.executable).parent
MARKER = 'payload-ran'


def _payloads(marker: Path) -> dict:
    "Objects whose unpickling would create `marker` (or run code some other way), keyed by the global torch refuses."
    class System:
        def __reduce__(self): return (os.system, (f'touch {marker}',))
    class Exec:
        def __reduce__(self): return (exec, (f"open({str(marker)!r}, 'w').close()",))
    class Popen:
        def __reduce__(self): return (subprocess.Popen, (['touch', str(marker)],))
    class Eval:
        def __reduce__(self): return (eval, (f"open({str(marker)!r}, 'w')",))
    # protocol-2 pickles name these __builtin__.exec and commands.Popen; the refusals name what Python 3 would call
    return {'posix.system': System(), 'builtins.exec': Exec(), 'subprocess.Popen': Popen(), 'builtins.eval': Eval()}


@pytest.fixture(scope='module')
def mini():
    from lr0fm.registry import load_model
    return load_model('lr0fm-mini-s')


@pytest.fixture(scope='module')
def files(tmp_path_factory, mini):
    "Real small checkpoints: the mini model's weights as safetensors, .pt and a training checkpoint; a tokens checkpoint; a resume state."
    from safetensors.torch import save_file
    from lr0fm.lrtk0 import LRTokens, vit_spec, save_tokens
    from lr0fm.train import train_tokens, ProceduralSource
    d = tmp_path_factory.mktemp('ckpt')
    sd = {k: v.contiguous() for k, v in mini.model.state_dict().items()}
    save_file(sd, d / 'mini.safetensors')
    torch.save(sd, d / 'mini.pt')
    torch.save({'state_dict': OrderedDict(sd), 'epoch': np.int64(7), 'best': np.float64(0.61), 'lr': np.float32(1e-4),
                'config': {'model': 'lr0fm-mini-s', 'sizes': [16, 32], 'amp': True, 'note': None}}, d / 'mini_train.ckpt')
    tk = LRTokens(vit_spec(mini.model), start_block=2, seed=0)
    save_tokens(tk, mini, d / 'tokens.safetensors'); tk.detach_hooks()
    tb, _ = train_tokens(mini, ProceduralSource(8, 224), d / 'run', steps=2, batch_size=4, heldout=False, save_every=2, progress=False, log=lambda m: None)
    tb.model.lr_tokens.detach_hooks()
    torch.jit.script(mini.model).save(str(d / 'mini_ts.pt'))
    return d


def _resume_parts(mini):
    "A fresh LRTokens, optimizer and scheduler of the same run shape as the `files` fixture's run."
    from lr0fm.lrtk0 import LRTokens, vit_spec
    from lr0fm.core import warmup_cosine
    tk = LRTokens(vit_spec(mini.model), 'lrtk0', 0, 50, 0.02, 0)
    opt = torch.optim.AdamW([dict(params=list(tk.tokens.values()), weight_decay=0.1), dict(params=[tk.logit_scale], weight_decay=0.)], lr=1e-3)
    return tk, opt, torch.optim.lr_scheduler.LambdaLR(opt, warmup_cosine(1, 2))


def _readers(mini):
    "name -> a function that reads one checkpoint file the way lr0fm does."
    from lr0fm.registry import load_model
    from lr0fm.hf_models import read_state_dict
    from lr0fm.lrtk0 import load_tokens
    from lr0fm.train import restore_train_state
    def resume(f):
        tk, opt, sched = _resume_parts(mini)
        try: return restore_train_state(f, tk, opt, sched, 'cpu')
        finally: tk.detach_hooks()
    def tokens(f):
        tb = load_tokens(f, mini, any_base=True)
        tb.model.lr_tokens.detach_hooks()
    return {'open_clip (load_model lr0fm-mini-s)': lambda f: load_model('lr0fm-mini-s', checkpoint=f),
            'BLIP / ALBEF / M2-Encoder (read_state_dict)': read_state_dict, 'tokens (load_tokens)': tokens, 'resume state (restore_train_state)': resume}


def _one_line_error(fn, f) -> str:
    with pytest.raises(Lr0fmError) as e: fn(f)
    msg = str(e.value)
    assert '\n' not in msg and str(f) in msg, msg
    return msg


# (a) payloads -------------------------------------------------------------------------------------------------------

def test_payloads_refused_by_every_reader(tmp_path, mini):
    marker = tmp_path / MARKER
    written = []
    for refused, obj in _payloads(marker).items():
        for name, payload in [('top', obj), ('beside-weights', {'state_dict': {'w': torch.zeros(2)}, 'meta': obj}),
                              ('in-tokens', {'tokens': {'embed': obj}, 'step': 1})]:
            for legacy in (False, True):
                for ext in ('.pt', '.pth', '.ckpt', '.bin', '.safetensors'):
                    f = tmp_path / f'{refused}-{name}-{"legacy" if legacy else "zip"}{ext}'
                    torch.save(payload, f, _use_new_zipfile_serialization=not legacy)
                    written.append((refused, f))
    for reader, fn in _readers(mini).items():
        for refused, f in written:
            if reader.startswith('open_clip') and f.suffix != '.pt': continue  # builds a model per file: one extension is enough
            msg = _one_line_error(fn, f)
            if 'tokens' in reader: assert 'is a torch pickle, not a tokens checkpoint' in msg, msg  # never unpickled at all
            else: assert f'it holds {refused}' in msg, (reader, msg)
            assert not marker.exists(), (reader, f)
    print(f'{len(written)} payload files through {len(_readers(mini))} readers: all refused, nothing ran')


def test_torchscript_payload_refused(tmp_path, files, mini):
    "A TorchScript archive whose data.pkl was swapped for a payload: refused, its code/ never compiled."
    marker = tmp_path / MARKER
    from lr0fm.registry import load_model
    for refused, obj in _payloads(marker).items():
        f = tmp_path / f'ts-{refused}.pt'
        with zipfile.ZipFile(files / 'mini_ts.pt') as z, zipfile.ZipFile(f, 'w') as o:
            for n in z.namelist(): o.writestr(n, pickle.dumps(obj, protocol=2) if n.endswith('/data.pkl') else z.read(n))
        assert f'it holds {refused}' in _one_line_error(lambda p: load_model('lr0fm-mini-s', checkpoint=p), f)
    assert not marker.exists()


@pytest.mark.parametrize('model', ['lr0fm-mini-s', 'BLIP-ViT-B/16 (4M)', 'ALBEF (4M)'])
def test_cli_refuses_payload(tmp_path, model):
    "Through the real console script (the issue's case: a BLIP checkpoint): exit status 2, one line on stderr, no traceback, no marker."
    if model != 'lr0fm-mini-s': pytest.importorskip('transformers')
    marker = tmp_path / MARKER
    evil = tmp_path / 'evil.pth'
    torch.save({'model': {'w': torch.zeros(1)}, 'config': _payloads(marker)['posix.system']}, evil)
    r = subprocess.run([str(BIN / 'lr0fm_eval'), '--model', model, '--checkpoint', str(evil), '--dataset', 'demo-colours',
                        '--out', str(tmp_path / 'out'), '--quiet'], capture_output=True, text=True, env={**os.environ, 'HF_HUB_OFFLINE': '1'})
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert len(lines) == 1 and 'Traceback' not in r.stderr, r.stderr
    assert lines[0].startswith(f'lr0fm_eval: error: refusing checkpoint {evil}: it holds posix.system'), lines[0]
    assert not marker.exists()


# (b) allow-listed contents -------------------------------------------------------------------------------------------

def test_allowed_checkpoints_load(files, mini):
    "Weights beside numpy scalars, an OrderedDict and a plain config load, in every format, with the same features."
    from lr0fm.models import read_checkpoint, read_state_dict
    from lr0fm.registry import load_model
    x = torch.randn(2, 3, 224, 224)
    want = mini.encode_image(x)
    for f in ('mini.safetensors', 'mini.pt', 'mini_train.ckpt', 'mini_ts.pt'):
        b = load_model('lr0fm-mini-s', checkpoint=files / f)
        torch.testing.assert_close(b.encode_image(x), want, atol=1e-5, rtol=0)
    ck = read_checkpoint(files / 'mini_train.ckpt')
    assert isinstance(ck['epoch'], np.int64) and ck['best'] == 0.61 and ck['config']['sizes'] == [16, 32]
    # the same numpy scalars pickled by numpy 1 (module numpy.core): a legacy file with the module name rewritten
    torch.save({'model': {'w': torch.ones(2)}, 'best': np.float64(0.5), 'n': np.int64(3)}, files / 'np1.pt', _use_new_zipfile_serialization=False)
    raw = (files / 'np1.pt').read_bytes()
    assert b'numpy._core.multiarray' in raw
    (files / 'np1.pt').write_bytes(raw.replace(b'numpy._core.multiarray', b'numpy.core.multiarray'))
    assert read_checkpoint(files / 'np1.pt')['best'] == 0.5 and read_state_dict(files / 'np1.pt')['w'].sum() == 2
    # numpy arrays are not on the list
    torch.save({'model': {'w': torch.ones(2)}, 'arr': np.zeros(3)}, files / 'np_array.pt')
    assert 'it holds numpy._core.multiarray._reconstruct' in _one_line_error(read_state_dict, files / 'np_array.pt')
    # the resume state the trainer writes
    from lr0fm.train import restore_train_state
    tk, opt, sched = _resume_parts(mini)
    try: assert restore_train_state(files / 'run' / 'train_state.pt', tk, opt, sched, 'cpu') == 2
    finally: tk.detach_hooks()


# (c) fuzz ------------------------------------------------------------------------------------------------------------

def _corrupt(data: bytes, rng: random.Random) -> bytes:
    "One random damage, aimed at the structure (first and last 4 kB: headers, pickles, zip directory) half of the time."
    b = bytearray(data)
    def pos(): return rng.randrange(len(b)) if rng.random() < 0.5 else rng.choice([rng.randrange(min(4096, len(b))), len(b) - 1 - rng.randrange(min(4096, len(b)))])
    kind = rng.choice(['flip', 'flip', 'truncate', 'zero', 'random-range', 'append'])
    if kind == 'flip':
        for _ in range(rng.randint(1, 16)):
            i = pos(); b[i] ^= 1 << rng.randrange(8)
    elif kind == 'truncate': b = b[:pos()]
    elif kind == 'zero':
        i = pos(); n = rng.randint(1, 256); b[i:i + n] = bytes(len(b[i:i + n]))
    elif kind == 'random-range':
        i = pos(); n = rng.randint(1, 256); b[i:i + n] = bytes(rng.randrange(256) for _ in range(len(b[i:i + n])))
    else: b += bytes(rng.randrange(256) for _ in range(rng.randint(1, 256)))
    return bytes(b)


def test_fuzz_checkpoints(tmp_path, files, mini):
    """Seeded byte damage to six real checkpoints, each read by its lr0fm reader: every read either succeeds or raises a
    one-line Lr0fmError naming the file; nothing else (no other exception, no traceback, no marker)."""
    from lr0fm.models import _load_open_clip_checkpoint, read_state_dict
    from lr0fm.lrtk0 import load_tokens
    from lr0fm.train import restore_train_state
    import open_clip
    model = open_clip.create_model('lr0fm-mini-s')  # the open_clip path, without building a model per input
    def open_clip_path(f): _load_open_clip_checkpoint(model, f, 'lr0fm-mini-s')
    def tokens(f): load_tokens(f, mini, any_base=True).model.lr_tokens.detach_hooks()
    def resume(f):
        tk, opt, sched = _resume_parts(mini)
        try: restore_train_state(f, tk, opt, sched, 'cpu')
        finally: tk.detach_hooks()
    targets = [('mini.safetensors', open_clip_path, 200), ('mini.pt', open_clip_path, 200), ('mini_ts.pt', open_clip_path, 100),
               ('mini_train.ckpt', read_state_dict, 150), ('tokens.safetensors', tokens, 200), ('run/train_state.pt', resume, 100)]
    rng = random.Random(12)
    total = dict(tried=0, clear_error=0, loaded=0, anything_else=0)
    others = []
    for name, read, n in targets:
        data, counts = (files / name).read_bytes(), dict(tried=0, clear_error=0, loaded=0, anything_else=0)
        for i in range(n):
            f = tmp_path / f'{i:03d}-{Path(name).name}'
            f.write_bytes(_corrupt(data, rng))
            counts['tried'] += 1
            try: read(f); counts['loaded'] += 1
            except Lr0fmError as e:
                if '\n' in str(e) or str(f) not in str(e): counts['anything_else'] += 1; others.append((name, repr(str(e))[:300]))
                else: counts['clear_error'] += 1
            except BaseException as e:  # noqa: BLE001 -- the point is to catch everything
                counts['anything_else'] += 1; others.append((name, f'{type(e).__name__}: {e}'[:300]))
            f.unlink()
        print(f'fuzz {name}: {counts}')
        for k in total: total[k] += counts[k]
    print(f'fuzz of checkpoint files, all: {total}')
    assert total['anything_else'] == 0, others[:5]
    assert total['clear_error'] > 0 and total['loaded'] > 0
    assert not any(p.name == MARKER for p in tmp_path.rglob('*'))
