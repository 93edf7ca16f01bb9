"""Hostile input, round 2 (issue 26, items 4, 8, 9, 10): image decoders and special files, crafted shards, resources, relative paths.

Fixtures are made here, small; the decoder fuzz pass is seeded and has a fixed budget (a few seconds). Guards and their prose live in
nbs/01_data, nbs/05_results, nbs/21_sweep and nbs/00_core.
"""
import json, os, subprocess, sys, textwrap
os.environ.setdefault('HF_HUB_OFFLINE', '1')
from pathlib import Path
import pytest

BIN = Path(sys.executable).parent


def _run(cmd, *args, cwd, timeout=600):
    return subprocess.run([str(BIN / cmd), *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          env=dict(os.environ, HF_HUB_OFFLINE='1'), timeout=timeout)


def _one_line(p, code=2):
    assert p.returncode == code and p.stderr.count('\n') == 1 and 'Traceback' not in p.stderr, (p.returncode, p.stdout[-500:], p.stderr[-2000:])
    return p.stderr

# 10. Decoders and special files

FUZZ = textwrap.dedent(r'''
    import io, json, random, resource, signal, sys
    from PIL import Image
    from lr0fm.data import load_image, BadImage, IMAGE_FORMATS
    import numpy as np
    N, SEED, CAP_MB, LIMIT_S = map(float, sys.argv[1:5])
    class Hang(BaseException): "A decode past its time limit (not an Exception: load_image must not swallow it)."
    def _alarm(*a): raise Hang()
    signal.signal(signal.SIGALRM, _alarm)
    rng = np.random.default_rng(0)
    px = rng.integers(0, 255, (24, 32, 3), dtype=np.uint8); rgb = Image.fromarray(px)
    i16 = Image.fromarray((px[..., 0].astype(np.uint16) * 257))
    seeds = []  # (format, how, bytes) for every raster format lr0fm opens, in the modes and options Pillow writes them
    def add(fmt, img, **kw):
        b = io.BytesIO(); img.save(b, fmt, **kw); seeds.append((fmt, f'{img.mode} {kw}', b.getvalue()))
    for m in ('RGB', 'L', 'CMYK'): add('JPEG', rgb.convert(m))
    add('JPEG', rgb, progressive=True); add('JPEG', rgb, quality=5, subsampling=2)
    for m in ('RGB', 'RGBA', 'P', 'L', '1', 'LA'): add('PNG', rgb.convert(m))
    add('PNG', i16); add('PNG', rgb, optimize=True)
    for m in ('RGB', 'P', 'L', '1'): add('BMP', rgb.convert(m))
    add('GIF', rgb.convert('P')); add('GIF', rgb.convert('L'), transparency=0)
    for c in ('raw', 'tiff_lzw', 'tiff_adobe_deflate', 'packbits', 'jpeg'): add('TIFF', rgb, compression=c)
    add('TIFF', i16); add('TIFF', rgb.convert('1'), compression='group4'); add('TIFF', rgb.convert('CMYK'))
    add('WEBP', rgb); add('WEBP', rgb.convert('RGBA'), lossless=True)
    for m in ('RGB', 'L', '1'): add('PPM', rgb.convert(m))
    add('PPM', i16)
    assert {f for f, _, _ in seeds} == set(IMAGE_FORMATS), sorted({f for f, _, _ in seeds})
    BIG = [b'\xff\xff\xff\xff', b'\x7f\xff\xff\xff', b'\x00\x01\x00\x00', b'\x80\x00\x00\x00', b'\x00\x00\x00\x00', b'\xff\xff']
    SIZES = [(12000, 12000), (11000, 13000), (6_000_000, 24), (65535, 65535), (0, 24), (32, 0)]
    def dims(r, b):  # the header's width and height (32 x 24) set to sizes under the bomb limit and over the memory cap, or to zero
        w, h = r.choice(SIZES); head = b[:256].replace(b'32 24', f'{w} {h}'.encode())  # PPM's header is text
        for n, order in ((2, 'big'), (2, 'little'), (4, 'big'), (4, 'little')):
            for old, new in ((32, w), (24, h)):
                if new < 256 ** n and r.random() < .5: head = head.replace(old.to_bytes(n, order), new.to_bytes(n, order))
        return head + b[256:]
    def mutate(r, b):
        b = bytearray(b); how = r.choice(['flip', 'bytes', 'truncate', 'length', 'splice', 'dims'])
        if how == 'dims': b = bytearray(dims(r, bytes(b)))
        elif how == 'flip':
            for _ in range(r.randint(1, 8)): i = r.randrange(len(b)); b[i] ^= 1 << r.randrange(8)
        elif how == 'bytes':
            for _ in range(r.randint(1, 4)): b[r.randrange(len(b))] = r.choice([0, 255, 127, 128])
        elif how == 'truncate': b = b[:r.randrange(1, len(b))]
        elif how == 'length':  # a size or length field set huge, zero or negative (header region first: that is where they are)
            v = r.choice(BIG); i = r.randrange(min(len(b), 64 if r.random() < .7 else len(b)) - len(v) + 1); b[i:i + len(v)] = v
        else: i, j = sorted(r.randrange(len(b)) for _ in range(2)); b[i:i] = b[i:j] * r.randint(1, 3)
        return how, bytes(b)
    cur = int(open('/proc/self/status').read().split('VmSize:')[1].split()[0]) * 1024
    resource.setrlimit(resource.RLIMIT_AS, (cur + int(CAP_MB) * 2**20, resource.RLIM_INFINITY))  # the memory cap of every decode
    r, out = random.Random(int(SEED)), dict(n=0, bad=0, ok=0, escapes=[], memory=0)
    for k in range(int(N)):
        fmt, kind, data = seeds[k % len(seeds)]
        how, m = mutate(r, data)
        signal.setitimer(signal.ITIMER_REAL, LIMIT_S)
        try:
            img = load_image(io.BytesIO(m), name=f'{fmt}#{k}'); assert img.mode == 'RGB'; out['ok'] += 1
        except BadImage as e: out['bad'] += 1; out['memory'] += 'MemoryError' in str(e)
        except BaseException as e: out['escapes'].append(f'{fmt} {kind} {how} #{k}: {type(e).__name__}: {str(e)[:100]}')
        finally: signal.setitimer(signal.ITIMER_REAL, 0)
        out['n'] += 1
    print(json.dumps(out))
''')


@pytest.mark.skipif(not sys.platform.startswith('linux'), reason='memory cap by RLIMIT_AS and /proc')
def test_decoder_fuzz_only_bad_image_escapes():
    """Seeded byte mutations (bit flips, bytes set, truncations, length fields, splices) of every raster format lr0fm opens, in
    the modes Pillow writes, each decoded under a 256 MB memory cap and a 2 s limit: anything but `BadImage` is an escape.
    The 'dims' mutation sets the header's width and height to sizes under Pillow's bomb limit and over the cap."""
    p = subprocess.run([sys.executable, '-c', FUZZ, '2000', '26', '256', '2'], capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert p.returncode == 0, p.stderr[-3000:]
    out = json.loads(p.stdout.splitlines()[-1])
    assert out['n'] == 2000 and out['escapes'] == [], out['escapes'][:20]
    assert out['bad'] > 1000 and out['ok'] > 100 and out['memory'] >= 5, out  # the mutations reach the decoders (some past the memory cap), and some files still decode


def test_decoder_exceptions_outside_the_old_set_skip_the_image(monkeypatch, tmp_path):
    "A decoder that raises MemoryError, NotImplementedError, AttributeError or struct.error: the image is a BadImage, the run goes on."
    import struct
    from PIL import PngImagePlugin, Image
    from lr0fm.data import load_image, BadImage
    f = tmp_path / 'a.png'; Image.new('RGB', (32, 32)).save(f)
    for exc in (MemoryError(), NotImplementedError('no decoder'), AttributeError("'NoneType' object has no attribute 'x'"), struct.error('unpack')):
        def _load(self, exc=exc): raise exc
        monkeypatch.setattr(PngImagePlugin.PngImageFile, 'load', _load)
        with pytest.raises(BadImage, match=f'a.png: unreadable image \\({type(exc).__name__}'): load_image(f)


_SPECIAL = textwrap.dedent(r'''
    import os, sys, warnings
    from pathlib import Path
    from PIL import Image
    from lr0fm.data import csv_dataset, BadImage
    d = Path(sys.argv[1]); Image.new('RGB', (32, 32), 'red').save(d / 'good.png'); os.mkfifo(d / 'pipe.png')
    (d / 'list.csv').write_text('path,label\ngood.png,0\npipe.png,1\n/dev/zero,1\n.,0\n')
    ds = csv_dataset(d / 'list.csv')
    for i in range(len(ds)):
        try: print(ds.image_id(i), 'ok', ds.load(i).size)
        except BadImage as e: print(e.reason)
''')


@pytest.mark.skipif(not hasattr(os, 'mkfifo'), reason='FIFOs')
def test_fifo_and_dev_zero_in_a_csv_list_are_skipped(tmp_path):
    "A FIFO (no writer), /dev/zero and a folder named in a CSV list: each skipped at once with its reason; the real image decodes."
    p = subprocess.run([sys.executable, '-c', _SPECIAL, str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr[-2000:]
    assert p.stdout.splitlines()[1:] == ['a FIFO (named pipe), not a regular file; an image must be a file — fix the list',
                                         'a character device, not a regular file; an image must be a file — fix the list',
                                         'a folder, not a regular file; an image must be a file — fix the list'], p.stdout
    assert p.stdout.splitlines()[0].endswith('ok (32, 32)')


# 4. Resources: an extreme aspect ratio

def test_extreme_aspect_ratio_is_refused_before_decoding(tmp_path, monkeypatch):
    "A 16 x 1,000,000 px PNG (a few kB): one BadImage line from its header, never decoded nor resized."
    import zlib, struct
    from PIL import ImageFile
    from lr0fm.data import load_image, BadImage
    w, h = 16, 1_000_000
    raw = zlib.compress(b'\x00' * (w + 1))  # one scanline: the header is what counts
    chunk = lambda t, d: struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d))
    f = tmp_path / 'strip.png'
    f.write_bytes(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 0, 0, 0, 0)) + chunk(b'IDAT', raw) + chunk(b'IEND', b''))
    calls = []
    monkeypatch.setattr(ImageFile.ImageFile, 'load', lambda self: calls.append(1))
    with pytest.raises(BadImage) as e: load_image(f)
    assert str(e.value) == f'{f}: 16x1000000 px: aspect ratio 62,500:1 is above the 50:1 bound (its short-side resize would grow the long side as many times); crop it or remove it'
    assert calls == []


def test_huge_integer_label_in_a_csv_list_is_refused(tmp_path):
    "A CSV list with one label 3,000,000,000: one line, instead of three billion classes (0..label) and their warning."
    from lr0fm.core import Lr0fmError
    from lr0fm.data import csv_dataset
    (tmp_path / 'list.csv').write_text('path,label\na.png,0\nb.png,3000000000\n')
    with pytest.raises(Lr0fmError) as e: csv_dataset(tmp_path / 'list.csv')
    assert str(e.value) == (f'{tmp_path / "list.csv"}: label 3000000000 is not a class index below 1,000,000 (integer labels number the classes from 0, '
                            'so every integer up to it would be a class); number the classes 0..C-1, or write class names as labels')


def _laughs(levels=9)->str:
    "Nested YAML anchors in one setting (1 kB): each level a list of nine aliases of the one before, 9^levels values expanded."
    lv = ['&l0 [x, x, x, x, x, x, x, x, x]'] + [f'&l{k} [{", ".join([f"*l{k - 1}"] * 9)}]' for k in range(1, levels)]
    return 'backbones: [lr0fm-mini-s]\ndatasets: [demo-colours]\nout: run\ndevice: [' + ', '.join(lv) + ']\n'


def test_billion_laughs_sweep_spec_is_refused_at_once(tmp_path):
    "A 1 kB spec whose anchors expand to ~4 x 10^8 values in a setting the check stringifies: one line, at once."
    spec = tmp_path / 'laughs.yaml'; spec.write_text(_laughs())
    assert len(spec.read_bytes()) < 1100
    err = _one_line(_run('lr0fm_sweep', spec, '--jobs', '1', cwd=tmp_path, timeout=60))
    assert err.startswith(f'lr0fm_sweep: error: {spec} holds ') and err.endswith(
        'values once its YAML aliases (*name) are expanded, more than the 100,000 a sweep spec may; write the lists out without anchors\n'), err
    assert not (tmp_path / 'run').exists()


# 8. Lost or hidden results: crafted shards

def _store(tmp_path):
    from lr0fm.results import ResultStore
    import pandas as pd
    ident = dict(model='m', pretrained='p', dataset='d', split='test', protocol='model')
    row = lambda v, top1: dict(ident, view=v, n_images=2, n_classes=3, top1=top1, top5=1.0, n_skipped=0, toy=True)
    pred = lambda v: pd.DataFrame(dict(ident, view=v, image_id=['a', 'b'], label=[0, 1], **{f'pred_{i}': [0, 2] for i in range(1, 6)}))
    return ResultStore(tmp_path / 'run'), ident, row, pred


def _resum(sh, **changes):
    "Edit a shard's rows.json as a crafter would, checksum updated."
    from lr0fm.results import _doc_digest
    doc = {**json.loads((sh / 'rows.json').read_text()), **changes}; doc['sha256'] = _doc_digest(doc)
    (sh / 'rows.json').write_text(json.dumps(doc))


def test_crafted_shard_name_does_not_win(tmp_path):
    "A shard named 99999999999999999999-...: ignored with one warning; the newer evaluation (100 %) is what the store shows, its features are found."
    import torch, warnings
    from lr0fm.results import _write_shard
    st, ident, row, pred = _store(tmp_path)
    st.add([row('HR', .5)], pred('HR'))
    cell = next(st.shards_dir.iterdir())
    _write_shard(cell, [row('HR', 0.)], pred('HR'), [], name='9' * 20 + '-crafted-1-0123abcd')
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        st.add([row('HR', 1.)], pred('HR'), features=dict(image_ids=['a', 'b'], views={'HR': torch.zeros(2, 4)}))
        assert st.results()['top1'].tolist() == [1.]
        assert st.features(*ident.values())[0] == ['a', 'b']
        assert st.missing(*ident.values(), ['HR'], with_features=True) == []
    assert any('99999999999999999999-crafted-1-0123abcd: its name is not a writing time lr0fm gives (crafted?), so it is ignored; move it out of the store'
               in str(x.message) for x in w), [str(x.message) for x in w]
    assert all(len(n.name.split('-')[0]) == 20 for n in cell.iterdir() if 'crafted' not in n.name)  # new names stay 20 digits


def test_shard_of_another_model_does_not_mark_its_cell_done(tmp_path):
    "A shard whose rows name model m, in the cell folder of m2: m2 is not done; one warning names the shard."
    import warnings
    from lr0fm.results import _write_shard, cell_id
    st, ident, row, pred = _store(tmp_path)
    other = cell_id(dict(ident, model='m2'))
    sh = _write_shard(st.shards_dir / other, [row('HR', .5)], pred('HR'), [])
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        assert st.missing(**dict(ident, model='m2'), views=['HR']) == ['HR']
        assert st.results().empty
    assert [str(x.message) for x in w] == [f'{sh}: its rows are of m/p/d/test/model, not of its cell {other}, so it is ignored; move it out of the store'] * 2


@pytest.mark.parametrize('case', ['infinity', 'skipped', 'ids', 'width', 'rows'])
def test_crafted_values_name_the_shard(tmp_path, case, monkeypatch):
    "Values no writer stores: one Lr0fmError line naming the shard, not KeyError / OverflowError / TypeError / a matmul error."
    import torch, hashlib, pandas as pd
    from safetensors.torch import save
    from lr0fm.core import Lr0fmError
    from lr0fm.results import FEATURES_FORMAT
    st, ident, row, pred = _store(tmp_path)
    sh = st.add([row('HR', .5)], pred('HR'), features=dict(image_ids=['a', 'b'], views={'HR': torch.zeros(2, 4)}))[0]
    read = lambda: (st.merge(), st.features(*ident.values(), **(dict(width=8) if case == 'width' else {})))
    if case == 'infinity': _resum(sh, rows=[dict(row('HR', .5), n_images=float('inf'))]); want = 'rows.json is damaged (row 1: n_images = inf is not a positive count)'
    if case == 'skipped': _resum(sh, skipped=[dict(image_id='x.jpg', reason='corrupt')]); want = 'rows.json is damaged (skipped-image entry 1 has no model, pretrained, dataset, split, protocol)'
    if case == 'ids':
        data = save({'view.HR': torch.zeros(2, 4).half()}, metadata=dict(format=FEATURES_FORMAT, image_ids='{"a": 0, "b": 1}'))
        (sh / 'features.safetensors').write_bytes(data); _resum(sh, features_sha256=hashlib.sha256(data).hexdigest())
        want = 'features.safetensors is damaged (its image_ids are a dict, not a list of image ids)'
    if case == 'width': want = "features.safetensors is damaged (its features are 4 wide, not the model's 8)"
    if case == 'rows':  # 4 predictions where rows.json allows 2: refused from the parquet metadata, before the table is read
        buf = pred('HR').pipe(lambda d: pd.concat([d, d]))[['image_id', 'label', 'view'] + [f'pred_{i}' for i in range(1, 6)]]
        (sh / 'predictions.parquet').unlink(); buf.to_parquet(sh / 'predictions.parquet', index=False)
        _resum(sh, predictions_sha256=hashlib.sha256((sh / 'predictions.parquet').read_bytes()).hexdigest())
        monkeypatch.setattr(pd, 'read_parquet', lambda *a, **k: pytest.fail('read before its row count was checked'))
        want = 'predictions.parquet is damaged (4 rows, more than the 2 its rows.json allows (one per image and view))'
    with pytest.raises(Lr0fmError) as e: read()
    assert str(sh) in str(e.value) and want in str(e.value) and '\n' not in str(e.value), str(e.value)


# 9. Relative paths and full disks

def test_relative_root_is_made_absolute_at_submission(tmp_path, monkeypatch):
    "A sweep with --root data: every job gets the absolute folder (jobs run inside the run folder)."
    from lr0fm.sweep import SweepSpec, job_parameters
    monkeypatch.chdir(tmp_path)
    spec = SweepSpec(['lr0fm-mini-s'], ['imagefolder'], 'run', root='data').check()
    assert job_parameters(spec, spec.backbones[0])['root'] == str(tmp_path / 'data')


def test_full_disk_while_writing_names_the_file(tmp_path, monkeypatch, capsys):
    "The disk fills while the merged view is written: one line naming the file and what to do, the old file kept, no temporary left."
    import errno, pandas as pd
    from lr0fm.core import run_command
    st, ident, row, pred = _store(tmp_path)
    st.add([row('HR', .5)], pred('HR'))
    def _full(self, f, *a, **k): f.write(b'PAR1'); raise OSError(errno.ENOSPC, 'No space left on device')
    monkeypatch.setattr(pd.DataFrame, 'to_parquet', _full)
    with pytest.raises(SystemExit) as e: run_command(st.merge, 'lr0fm_store')
    assert e.value.code == 1
    assert capsys.readouterr().err == (f'lr0fm_store: error: {st.predictions_path}: No space left on device; the disk is full: '
                                       'free space or choose another output folder; finished results are kept\n')
    assert not list(st.root.glob('.*.tmp')) and not st.predictions_path.exists()


# 10. Job records of unexpected shape

@pytest.mark.parametrize('status, cells', [('{"state": "running", "started": 5}', None), ('{"state": ["x"], "reason": {"a": 1}}', None),
                                           (None, '{"cells": 7, "parameters": []}'), (None, '{"cells": [1, "x"], "parameters": {"datasets": 3}}')])
def test_job_records_of_unexpected_shape_are_one_line_in_status(tmp_path, status, cells):
    "Crafted files in jobs/: --status names the file (a failed or not-yet-recorded job), never a traceback."
    from lr0fm.sweep import SweepSpec, sweep_status, job_name
    spec = SweepSpec(['lr0fm-mini-s'], ['demo-colours'], str(tmp_path / 'run'), resolutions=['HR']).check()
    jobs = tmp_path / 'run' / 'jobs'; jobs.mkdir(parents=True)
    name = job_name(spec.backbones[0])
    (jobs / f'{name}.submitted.json').write_text('{"executor": "local", "job_id": "1", "submitted": "2026-01-01T00:00:00"}')
    if status: (jobs / f'{name}.json').write_text(status)
    if cells: (jobs / f'{name}.cells.json').write_text(cells)
    t = sweep_status(spec)
    assert len(t) == 1 and t['cells'].iloc[0] == '0/1'
    if status: assert t['state'].iloc[0] == 'failed' and f'{name}.json' in t['why'].iloc[0] and 'delete it' in t['why'].iloc[0], t.to_dict('records')
