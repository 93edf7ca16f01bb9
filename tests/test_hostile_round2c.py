"""Hostile input, round 2 (issue 26, item 10, the rest): received dataset files of the benchmark layouts.

Crafted CLIP_benchmark webdataset exports, crafted Hugging Face `save_to_disk` folders (ImageNet-Hard) and damaged annotation
files of the paper's layouts (EuroSAT, UCF101, DTD, Food101, SUN397, Stanford Cars, FGVC Aircraft, Pets, Flowers102, ImageNet's
devkit and Kaggle lists). Each case is one line naming the file and the fix (`Lr0fmError`), or the bad item left out and counted;
never a traceback, a hang or a file read from outside the dataset. The guards and their prose live in nbs/01a_datasets.ipynb.
Fixtures are the miniatures of `lr0fm.testing.write_miniature`, edited here; everything is small and seeded.
"""
import io, json, os, shutil, signal, subprocess, sys, tarfile, warnings
os.environ.setdefault('HF_HUB_OFFLINE', '1')
from contextlib import contextmanager
from pathlib import Path
import numpy as np
import pytest
from lr0fm.core import Lr0fmError
from lr0fm.data import BadImage
from lr0fm.datasets import open_dataset
from lr0fm.testing import write_miniature, _tiny_jpeg, _savemat, _records

BIN = Path(sys.executable).parent
JPG = _tiny_jpeg(3)


@contextmanager
def _deadline(s=20):
    "A hang fails the test instead of stalling the suite (a FIFO opened for reading blocks until a writer comes)."
    def _alarm(*a): raise TimeoutError(f'hung for more than {s} s')
    old = signal.signal(signal.SIGALRM, _alarm); signal.alarm(s)
    try: yield
    finally: signal.alarm(0); signal.signal(signal.SIGALRM, old)


def _one_line(fn, *names):
    "The one-line `Lr0fmError` of `fn()`, which must name each of `names`."
    with _deadline(), pytest.raises(Lr0fmError) as e: fn()
    msg = str(e.value)
    assert '\n' not in msg, msg
    for n in names: assert str(n) in msg, (n, msg)
    return msg


def _open(name, root, **kw):
    "open_dataset, with the warnings it gave (the paper-split and size notes of miniatures set aside)."
    with _deadline(), warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always'); ds = open_dataset(name, root, **kw)
    return ds, [str(x.message) for x in w if 'left out' in str(x.message)]


# ---------- (a) CLIP_benchmark webdataset exports ----------

def _tar(path, members):
    "A tar shard: (name, bytes) members, or (name, tar type, link target) link members."
    with tarfile.open(path, 'w', format=tarfile.GNU_FORMAT) as tf:
        for m in members:
            ti = tarfile.TarInfo(m[0])
            if len(m) == 2: ti.size = len(m[1]); tf.addfile(ti, io.BytesIO(m[1]))
            else: ti.type, ti.linkname = m[1], m[2]; tf.addfile(ti)


def _wds(root):
    "The Food101 export miniature (wds_food101/test/{0,1}.tar, 3 samples each, labels 0, 50, 100)."
    write_miniature('food101', root, 'wds'); return root / 'wds_food101'


def _absurd_size(p):
    "A member header claiming 100 GB (checksum recomputed), as a crafted shard would carry."
    _tar(p, [('a.jpg', JPG), ('a.cls', b'3'), ('b.jpg', JPG)])
    b = bytearray(p.read_bytes()); off = b.index(b'b.jpg'); hdr = b[off:off + 512]
    hdr[124:136] = b'%011o\x00' % (100 << 30); hdr[148:156] = b' ' * 8; hdr[148:156] = b'%06o\x00 ' % sum(hdr)
    b[off:off + 512] = hdr; p.write_bytes(bytes(b))


SHARDS = {'cut_in_a_member': lambda p: p.write_bytes(p.read_bytes()[:700]),
          'cut_to_half': lambda p: p.write_bytes(p.read_bytes()[:len(p.read_bytes()) // 2 + 100]),
          'empty': lambda p: p.write_bytes(b''),
          'random_bytes': lambda p: p.write_bytes(np.random.default_rng(0).bytes(3000)),
          'a_jpeg': lambda p: p.write_bytes(JPG),
          'member_of_100_GB': _absurd_size}


@pytest.mark.parametrize('case', list(SHARDS))
def test_wds_damaged_shard_is_one_line(case, tmp_path):
    d = _wds(tmp_path); SHARDS[case](d / 'test' / '0.tar')
    msg = _one_line(lambda: open_dataset('food101', tmp_path), d / 'test' / '0.tar', 'not a readable tar shard', 'download the export again')


# each: (members of 0.tar beside the good sample 'b', reason phrase); the bad sample 'a' is left out and counted
SAMPLES = {
    'label_text': ([('a.jpg', JPG), ('a.cls', b'cat')], "label 'cat'"),
    'label_negative': ([('a.jpg', JPG), ('a.cls', b'-1')], "label '-1'"),
    'label_float': ([('a.jpg', JPG), ('a.cls', b'3.0')], "label '3.0'"),
    'label_fraction': ([('a.jpg', JPG), ('a.cls', b'2.5')], "label '2.5'"),
    'label_out_of_range': ([('a.jpg', JPG), ('a.cls', b'101')], 'label 101 is outside 0..100'),
    'label_20_digits': ([('a.jpg', JPG), ('a.cls', b'9' * 20)], 'is not a class index'),
    'label_binary': ([('a.jpg', JPG), ('a.cls', b'\xff\xfe\x00')], 'is not a class index'),
    'label_empty': ([('a.jpg', JPG), ('a.cls', b'')], "label ''"),
    'label_of_5_MB': ([('a.jpg', JPG), ('a.cls', b'7' * 5_000_000)], '(5,000,000 bytes) is not a class index'),
    'label_missing': ([('a.jpg', JPG)], 'no .cls label'),
    'image_a_symlink': ([('a.jpg', tarfile.SYMTYPE, '/etc/passwd'), ('a.cls', b'3')], 'member is a link, not a file'),
    'image_a_hard_link': ([('a.jpg', tarfile.LNKTYPE, '/etc/passwd'), ('a.cls', b'3')], 'member is a link, not a file'),
    'name_with_a_newline': ([('a\nx.jpg', JPG), ('a\nx.cls', b'3')], 'control characters'),
}


@pytest.mark.parametrize('case', list(SAMPLES))
def test_wds_bad_sample_is_left_out_and_counted(case, tmp_path):
    "A sample whose label is not a class index (or that has none, or whose image is a link) is left out, counted in one warning; strict refuses."
    d = _wds(tmp_path); members, phrase = SAMPLES[case]
    _tar(d / 'test' / '0.tar', members + [('b.jpg', JPG), ('b.cls', b'3')])
    ds, w = _open('food101', tmp_path)
    assert sorted(ds.labels) == [3, 50, 100, 100] and ds.image_id(0) == '0.tar#b', ds.items   # the good sample of 0.tar and the three of 1.tar
    assert len(w) == 1 and '1 of the 5 samples' in w[0] and '0.tar#a' in w[0] and phrase in w[0] and '\n' not in w[0], w
    _one_line(lambda: open_dataset('food101', tmp_path, strict=True), '1 of the 5 samples', 'download the export again')


def test_wds_good_labels_still_read(tmp_path):
    "CLIP_benchmark writes `str(label)`; blanks around it are read, and member names with '..' or '/' stay keys, never paths."
    d = _wds(tmp_path)
    _tar(d / 'test' / '0.tar', [('a.jpg', JPG), ('a.cls', b' 5 \n'), ('../../../etc/x.jpg', JPG), ('../../../etc/x.cls', b'4')])
    ds, w = _open('food101', tmp_path)
    assert sorted(ds.labels) == [4, 5, 50, 100, 100] and not w and not (tmp_path.parent / 'etc').exists()
    assert ds.load(ds.labels.index(4)).size == (20, 20)


def test_wds_no_usable_sample_is_one_line(tmp_path):
    d = _wds(tmp_path)
    for s in ('0', '1'): _tar(d / 'test' / f'{s}.tar', [('a.jpg', JPG), ('a.cls', b'a caption, not a class')])
    _one_line(lambda: open_dataset('food101', tmp_path), 'holds no usable sample', "'0.tar#a'", 'download the export again')


def _fifo(p):
    p.unlink(); os.mkfifo(p)


# each: (file of the export, how it is damaged, phrase)
EXPORT_FILES = {
    'classnames_binary': ('classnames.txt', lambda p: p.write_bytes(np.random.default_rng(1).bytes(2000)), 'is not a text file'),
    'classnames_fifo': ('classnames.txt', _fifo, 'is a FIFO (named pipe), not a regular file'),
    'nshards_text': ('test/nshards.txt', lambda p: p.write_text('two\n'), "holds 'two', not a shard count"),
    'nshards_1e9': ('test/nshards.txt', lambda p: p.write_text('1000000000\n'), 'not a shard count 1..100,000'),
    'nshards_negative': ('test/nshards.txt', lambda p: p.write_text('-1\n'), "holds '-1'"),
    'nshards_zero': ('test/nshards.txt', lambda p: p.write_text('0\n'), "holds '0'"),
    'nshards_a_path': ('test/nshards.txt', lambda p: p.write_text('../../../etc/passwd\n'), 'not a shard count'),
    'nshards_binary': ('test/nshards.txt', lambda p: p.write_bytes(b'\xff\xfe\x00'), 'is not a text file'),
    'nshards_fifo': ('test/nshards.txt', _fifo, 'is a FIFO'),
    'shard_fifo': ('test/0.tar', _fifo, 'is a FIFO'),
}


@pytest.mark.parametrize('case', list(EXPORT_FILES))
def test_wds_export_files_one_line(case, tmp_path):
    d = _wds(tmp_path); rel, damage, phrase = EXPORT_FILES[case]
    damage(d / rel)
    _one_line(lambda: open_dataset('food101', tmp_path), d / rel, phrase)


@pytest.mark.parametrize('what', ['shard', 'nshards', 'devzero'])
def test_wds_links_out_of_the_export_are_refused(what, tmp_path):
    "A shard (or nshards.txt) that is a link out of the export is not followed; linking the whole export folder still works."
    d = _wds(tmp_path)
    rel = 'test/nshards.txt' if what == 'nshards' else 'test/0.tar'
    if what == 'devzero': target = Path('/dev/zero')
    else: target = tmp_path / 'elsewhere'; shutil.copy(d / rel, target)
    (d / rel).unlink(); os.symlink(target, d / rel)
    _one_line(lambda: open_dataset('food101', tmp_path), d / rel, 'outside', 'does not follow')
    (d / rel).unlink(); shutil.copy(tmp_path / 'elsewhere' if what != 'devzero' else _wds(tmp_path / 'again') / rel, d / rel)
    moved = tmp_path / 'store'; moved.mkdir(); shutil.move(str(d), str(moved / 'wds_food101'))
    os.symlink(moved / 'wds_food101', d)                  # the export folder itself a link: its files are inside it
    assert sorted(_open('food101', tmp_path)[0].labels) == [0, 0, 50, 50, 100, 100]


# ---------- (b) Hugging Face save_to_disk (ImageNet-Hard) ----------

def _hf(root, label=None, label_feat=None, drop_image=False):
    "An ImageNet-Hard save_to_disk folder of two rows (labels [0] and [1, 2] unless given)."
    import datasets
    datasets.disable_progress_bars()
    cols = {'image': datasets.Image(), 'label': label_feat or datasets.Sequence(datasets.Value('int64'))}
    from PIL import Image
    data = {'image': [Image.open(io.BytesIO(_tiny_jpeg(i)), formats=['JPEG']) for i in range(2)], 'label': label if label is not None else [[0], [1, 2]]}
    if drop_image: cols.pop('image'); data.pop('image')
    out = root / 'imagenet-hard'
    datasets.Dataset.from_dict(data, features=datasets.Features(cols)).save_to_disk(str(out))
    return out


def _feat(kind):
    import datasets
    V, S = datasets.Value, datasets.Sequence
    return {'str': V('string'), 'strs': S(V('string')), 'floats': S(V('float64')), 'float': V('float64'), 'nested': S(S(V('int64'))),
            'struct': {'a': V('int64')}, 'ints': S(V('int64')), 'bool': V('bool')}[kind]


HF_LABELS = {'text_lists': ([['cat'], ['dog']], 'strs', "['cat']"), 'text': (['cat', 'dog'], 'str', 'the label cat'),
             'numeric_text': (['3', '4'], 'str', 'the label 3,'), 'float_fraction': ([[1.5], [2.0]], 'floats', '[1.5]'),
             'integral_floats': ([3.0, 4.0], 'float', '3.0'), 'nested_lists': ([[[1]], [[2]]], 'nested', '[[1]]'),
             'struct': ([{'a': 1}, {'a': 2}], 'struct', "{'a': 1}"), 'empty_list': ([[], [1]], 'ints', 'has no label'),
             'none': ([None, [1]], 'ints', 'the label None'), 'negative': ([[-1], [1]], 'ints', '[-1]'),
             'out_of_range': ([[1000], [1]], 'ints', '[1000]'), 'huge': ([[10**15], [1]], 'ints', '[1000000000000000]'), 'booleans': ([True, False], 'bool', 'the label True')}


@pytest.mark.parametrize('case', list(HF_LABELS))
def test_hf_bad_labels_are_one_line(case, tmp_path):
    "Labels that are not class indices 0..999 (or lists of them): one line naming the folder and the row, never a traceback or a silent cast."
    label, feat, phrase = HF_LABELS[case]
    d = _hf(tmp_path, label, _feat(feat))
    _one_line(lambda: open_dataset('imagenet-hard', tmp_path), f'row 0 of the Hugging Face dataset {d}', phrase)


def test_hf_missing_image_column_is_one_line(tmp_path):
    d = _hf(tmp_path, drop_image=True)
    _one_line(lambda: open_dataset('imagenet-hard', tmp_path), d, "has no 'image' column (columns: label)")


def _path_only(d, p):
    "Store row 0's image as a path only (no bytes), as a crafted arrow file does."
    import pyarrow as pa
    f = next(d.glob('data-*.arrow'))
    t = pa.ipc.open_stream(pa.BufferReader(f.read_bytes())).read_all()
    col = t.column('image').combine_chunks()
    by, paths = col.field('bytes').to_pylist(), col.field('path').to_pylist()
    by[0], paths[0] = None, p
    new = pa.StructArray.from_arrays([pa.array(by, pa.binary()), pa.array(paths, pa.string())], fields=list(col.type))
    t = t.set_column(t.schema.get_field_index('image'), t.schema.field('image'), new)
    with pa.OSFile(str(f), 'wb') as sink, pa.ipc.new_stream(sink, t.schema) as w: w.write_table(t)


@pytest.mark.parametrize('where', ['absolute_outside', '../outside.jpg', 'x/../../outside.jpg', '/etc/passwd', 'inside.jpg', 'absolute_inside'])
def test_hf_image_paths_outside_the_folder_are_never_read(where, tmp_path, monkeypatch):
    "An image stored as a path is read only below the dataset folder (relative to it, or absolute inside it); any other is skipped, unread."
    import lr0fm.datasets as lds
    (tmp_path / 'outside.jpg').write_bytes(_tiny_jpeg(7))
    d = _hf(tmp_path); (d / 'inside.jpg').write_bytes(_tiny_jpeg(2))
    p = {'absolute_outside': str(tmp_path / 'outside.jpg'), 'absolute_inside': str(d / 'inside.jpg')}.get(where, where)
    _path_only(d, p)
    read, orig = [], lds.load_image
    monkeypatch.setattr(lds, 'load_image', lambda src, *a, **k: (read.append(src), orig(src, *a, **k))[1])
    ds, _ = _open('imagenet-hard', tmp_path)
    if where.startswith('inside') or where == 'absolute_inside':
        assert ds.load(0).size == (20, 20) and read == [os.path.normpath(d / 'inside.jpg')], read
    else:
        with pytest.raises(BadImage, match='is outside the dataset folder'): ds.load(0)
        assert read == [] and len(ds) == 2 and ds.load(1).size == (20, 20)   # the other row still reads (from its bytes)


def _arrow(d): return next(d.glob('data-*.arrow'))


def _state_outside(d):
    other = _hf(d.parent / 'other'); st = json.loads((d / 'state.json').read_text())
    st['_data_files'] = [{'filename': str(_arrow(other))}]; (d / 'state.json').write_text(json.dumps(st))


def _dict_outside(d):
    "The DatasetDict layout (dataset_dict.json + one folder per split) naming a split '../elsewhere' (a dataset outside)."
    shutil.move(str(_hf(d.parent / 'x')), str(d.parent / 'elsewhere'))
    tmp = d.parent / 'v'; shutil.move(str(d), str(tmp)); d.mkdir(); shutil.move(str(tmp), str(d / 'validation'))
    (d / 'dataset_dict.json').write_text(json.dumps({'splits': ['validation', '../elsewhere']}))


def _dict_split_link(d):
    "The DatasetDict layout whose 'validation' split folder is a link to a dataset outside the folder."
    shutil.move(str(_hf(d.parent / 'x')), str(d.parent / 'elsewhere'))
    shutil.rmtree(d); d.mkdir(); os.symlink(d.parent / 'elsewhere', d / 'validation')
    (d / 'dataset_dict.json').write_text(json.dumps({'splits': ['validation']}))


HF_FILES = {
    'arrow_cut': (lambda d: _arrow(d).write_bytes(_arrow(d).read_bytes()[:len(_arrow(d).read_bytes()) // 2]), 'cannot be read as a Hugging Face save_to_disk dataset'),
    'arrow_random_bytes': (lambda d: _arrow(d).write_bytes(np.random.default_rng(2).bytes(5000)), 'cannot be read as a Hugging Face save_to_disk dataset'),
    'arrow_missing': (lambda d: _arrow(d).unlink(), 'data-00000-of-00001.arrow cannot be read'),
    'state_cut': (lambda d: (d / 'state.json').write_text((d / 'state.json').read_text()[:40]), 'state.json is not valid JSON'),
    'state_binary': (lambda d: (d / 'state.json').write_bytes(b'\xff\xfe\x00\x01'), 'state.json is not a text file'),
    'state_a_list': (lambda d: (d / 'state.json').write_text('[1, 2]'), 'state.json does not list its data files'),
    'state_naming_an_arrow_outside': (_state_outside, 'state.json does not list its data files as plain file names in this folder'),
    'info_cut': (lambda d: (d / 'dataset_info.json').write_text((d / 'dataset_info.json').read_text()[:40]), 'dataset_info.json is not valid JSON'),
    'info_unknown_feature_type': (lambda d: (d / 'dataset_info.json').write_text(json.dumps(dict(json.loads((d / 'dataset_info.json').read_text()), features={'label': {'_type': 'NoSuchType'}}))),
                                  "Feature type 'NoSuchType' not found"),
    'dataset_dict_naming_a_split_outside': (_dict_outside, 'dataset_dict.json does not list its splits as plain folder names'),
    'dataset_dict_split_folder_a_link_outside': (_dict_split_link, 'is a link to'),
}


@pytest.mark.parametrize('case', list(HF_FILES))
def test_hf_damaged_or_crafted_files_are_one_line(case, tmp_path):
    d = _hf(tmp_path); damage, phrase = HF_FILES[case]
    damage(d)
    _one_line(lambda: open_dataset('imagenet-hard', tmp_path), 'ImageNet-Hard: ', d, phrase)


# ---------- (c) annotation files of the paper's layouts ----------

def _cut(p): p.write_bytes(p.read_bytes()[:len(p.read_bytes()) // 2])
def _binary(p): p.write_bytes(np.random.default_rng(3).bytes(600))
def _prepend(line): return lambda p: p.write_text(line + '\n' + p.read_text())
def _json(fn): return lambda p: p.write_text(json.dumps(fn(json.loads(p.read_text()))))
def _row0(j, row): return dict(j, test=[row] + j['test'][1:])
def _mat(**arrays): return lambda p: _savemat(p, **arrays)


E, U = 'eurosat/split_zhou_EuroSAT.json', 'ucf101/split_zhou_UCF101.json'
D, F, S = 'dtd/dtd/labels/test1.txt', 'food-101/meta/', 'SUN397/'
C, A, P, FL = 'stanford_cars/', 'fgvc-aircraft-2013b/data/', 'oxford-iiit-pet/annotations/test.txt', 'flowers-102/'
GT, META = 'imagenet/ILSVRC2012_devkit_t12/data/ILSVRC2012_validation_ground_truth.txt', 'imagenet/ILSVRC2012_devkit_t12/data/meta.mat'
CARS2 = dict(fname=['00001.jpg', '00002.jpg'])

# each: (dataset, miniature form, file, damage, phrase of the one-line error)
ANNOTATIONS = {
    'eurosat_json_cut': ('eurosat', 'folder', E, _cut, 'is not valid JSON'),
    'eurosat_json_binary': ('eurosat', 'folder', E, _binary, 'is not a text file'),
    'eurosat_json_fifo': ('eurosat', 'folder', E, _fifo, 'is a FIFO'),
    'eurosat_json_a_list': ('eurosat', 'folder', E, lambda p: p.write_text('[1, 2, 3]'), 'is not a CoOp split file'),
    'eurosat_json_test_a_dict': ('eurosat', 'folder', E, _json(lambda j: dict(j, test={'a': 1})), "its 'test' part is not a list of rows"),
    'eurosat_json_row_of_two': ('eurosat', 'folder', E, _json(lambda j: dict(j, test=[r[:2] for r in j['test']])), 'not [image path, label, class name]'),
    'eurosat_json_label_text': ('eurosat', 'folder', E, _json(lambda j: _row0(j, [j['test'][0][0], 'zero', 'x'])), "'zero' is not a whole number"),
    'eurosat_json_path_a_number': ('eurosat', 'folder', E, _json(lambda j: _row0(j, [5, 0, 'x'])), 'row 0 of'),
    'eurosat_json_path_escapes': ('eurosat', 'folder', E, _json(lambda j: _row0(j, ['AnnualCrop/../../../outside.jpg', 0, 'x'])), 'a path outside'),
    'ucf101_json_cut': ('ucf101', 'folder', U, _cut, 'is not valid JSON'),
    'ucf101_json_rows_strings': ('ucf101', 'folder', U, _json(lambda j: dict(j, test=['a', 'b'])), 'not [image path, label, class name]'),
    'ucf101_json_null': ('ucf101', 'folder', U, lambda p: p.write_text('null'), 'is not a CoOp split file'),
    'dtd_labels_binary': ('dtd', 'folder', D, _binary, 'is not a text file'),
    'dtd_labels_path_escapes': ('dtd', 'folder', D, _prepend('banded/../../../../outside.jpg'), 'a path outside'),
    'food101_classes_binary': ('food101', 'folder', F + 'classes.txt', _binary, 'is not a text file'),
    'food101_test_binary': ('food101', 'folder', F + 'test.txt', _binary, 'is not a text file'),
    'food101_test_unknown_class': ('food101', 'folder', F + 'test.txt', _prepend('nosuchfood/1'), "names 'nosuchfood/1', not an image of the 101 classes"),
    'food101_test_path_escapes': ('food101', 'folder', F + 'test.txt', _prepend('apple_pie/../../../outside'), 'a path outside'),
    'food101_json_cut': ('food101', 'folder', F + 'test.json', lambda p: ((p.parent / 'test.txt').unlink(), _cut(p)), 'is not valid JSON'),
    'food101_json_a_list': ('food101', 'folder', F + 'test.json', lambda p: ((p.parent / 'test.txt').unlink(), p.write_text('[1, 2]')), 'is not a mapping of class to its image list'),
    'sun397_classname_binary': ('sun397', 'folder', S + 'ClassName.txt', _binary, 'is not a text file'),
    'sun397_testing_binary': ('sun397', 'folder', S + 'Testing_01.txt', _binary, 'is not a text file'),
    'cars_meta_cut': ('stanford-cars', 'folder', C + 'devkit/cars_meta.mat', _cut, 'is damaged or not the file this layout expects'),
    'cars_meta_a_scalar': ('stanford-cars', 'folder', C + 'devkit/cars_meta.mat', _mat(class_names=np.array(3)), 'lists 1 classes, LR0.FM expects 196'),
    'cars_annos_cut': ('stanford-cars', 'folder', C + 'cars_test_annos_withlabels.mat', _cut, 'is damaged'),
    'cars_annos_random_bytes': ('stanford-cars', 'folder', C + 'cars_test_annos_withlabels.mat', _binary, 'is damaged'),
    'cars_annos_no_annotations': ('stanford-cars', 'folder', C + 'cars_test_annos_withlabels.mat', _mat(other=np.arange(3)), "has no 'annotations' entry"),
    'cars_annos_no_fname': ('stanford-cars', 'folder', C + 'cars_test_annos_withlabels.mat', _mat(annotations=_records(**{'class': [1, 2]})), 'no field of name fname'),
    'cars_annos_class_0': ('stanford-cars', 'folder', C + 'cars_test_annos_withlabels.mat', _mat(annotations=_records(**{'class': [0, 2]}, **CARS2)), "gives '00001.jpg' the class 0, outside 1..196"),
    'cars_annos_class_text': ('stanford-cars', 'folder', C + 'cars_test_annos_withlabels.mat', _mat(annotations=_records(**{'class': ['x', 'y']}, **CARS2)), "'x' is not a whole number"),
    'cars_annos_fname_escapes': ('stanford-cars', 'folder', C + 'cars_test_annos_withlabels.mat', _mat(annotations=_records(**{'class': [1, 2]}, fname=['../../outside.jpg', '00002.jpg'])), 'a path outside'),
    'aircraft_variants_binary': ('fgvc-aircraft', 'folder', A + 'variants.txt', _binary, 'is not a text file'),
    'aircraft_row_of_one_column': ('fgvc-aircraft', 'folder', A + 'images_variant_test.txt', _prepend('1234567'), "has the row '1234567'"),
    'aircraft_unknown_variant': ('fgvc-aircraft', 'folder', A + 'images_variant_test.txt', _prepend('1234567 Boeing 999'), "has the row '1234567 Boeing 999'"),
    'aircraft_id_escapes': ('fgvc-aircraft', 'folder', A + 'images_variant_test.txt', _prepend('../../../outside 707-320'), 'a path outside'),
    'pets_row_of_one_column': ('oxford-pets', 'folder', P, _prepend('Abyssinian_9'), "has the row 'Abyssinian_9'"),
    'pets_class_text': ('oxford-pets', 'folder', P, _prepend('Abyssinian_9 cat 1 1'), "'cat' is not a whole number"),
    'pets_class_0': ('oxford-pets', 'folder', P, _prepend('Abyssinian_9 0 1 1'), 'the class 0, outside 1..37'),
    'pets_class_38': ('oxford-pets', 'folder', P, _prepend('Abyssinian_9 38 1 1'), 'the class 38, outside 1..37'),
    'pets_binary': ('oxford-pets', 'folder', P, _binary, 'is not a text file'),
    'pets_image_escapes': ('oxford-pets', 'folder', P, _prepend('../../outside 1 1 1'), 'a path outside'),
    'flowers_labels_cut': ('flowers102', 'folder', FL + 'imagelabels.mat', _cut, 'is damaged'),
    'flowers_labels_0': ('flowers102', 'folder', FL + 'imagelabels.mat', _mat(labels=np.zeros((1, 18), int)), 'the class 0, outside 1..102'),
    'flowers_labels_text': ('flowers102', 'folder', FL + 'imagelabels.mat', _mat(labels=np.array(['a'] * 18, dtype=object)), "'a' is not a whole number"),
    'flowers_setid_no_tstid': ('flowers102', 'folder', FL + 'setid.mat', _mat(trnid=np.array([[1]])), "has no 'tstid' entry"),
    'flowers_setid_id_0': ('flowers102', 'folder', FL + 'setid.mat', _mat(tstid=np.array([[0, 3]]), trnid=np.array([[1]])), "lists image 0 in 'tstid'"),
    'flowers_setid_id_beyond': ('flowers102', 'folder', FL + 'setid.mat', _mat(tstid=np.array([[3, 9999]]), trnid=np.array([[1]])), "lists image 9999 in 'tstid'"),
    'flowers_setid_id_1.5': ('flowers102', 'folder', FL + 'setid.mat', _mat(tstid=np.array([[1.5, 3.0]]), trnid=np.array([[1]])), 'is not a whole number'),
    'imagenet_gt_text': ('imagenet', 'devkit', GT, lambda p: p.write_text('cat\n' * 2000), "'cat' is not a whole number"),
    'imagenet_gt_binary': ('imagenet', 'devkit', GT, _binary, 'is not a text file'),
    'imagenet_gt_class_5000': ('imagenet', 'devkit', GT, lambda p: p.write_text('5000\n' * 10000), 'gives class id 5000'),
    'imagenet_meta_cut': ('imagenet', 'devkit', META, _cut, 'is damaged'),
    'imagenet_meta_no_synsets': ('imagenet', 'devkit', META, _mat(other=np.arange(3)), "has no 'synsets' entry"),
    'imagenet_val_image_beyond_gt': ('imagenet', 'devkit', GT, lambda p: (p.parents[2] / 'val' / 'ILSVRC2012_val_00099999.JPEG').write_bytes(JPG), 'has no line for ILSVRC2012_val_00099999.JPEG'),
    'imagenet_val_image_not_numbered': ('imagenet', 'devkit', GT, lambda p: (p.parents[2] / 'val' / 'ILSVRC2012_val_abc.JPEG').write_bytes(JPG), 'has no line for ILSVRC2012_val_abc.JPEG'),
    'imagenet_kaggle_unknown_wnid': ('imagenet', 'kaggle', 'imagenet/LOC_val_solution.csv', lambda p: p.write_text(p.read_text().replace('n01440764', 'n99999999')), 'row 2 has no ImageId or no WordNet id'),
    'imagenet_kaggle_no_column': ('imagenet', 'kaggle', 'imagenet/LOC_val_solution.csv', lambda p: p.write_text('ImageId,Other\nx,y\n'), 'row 2 has no ImageId or no WordNet id'),
    'imagenet_kaggle_binary': ('imagenet', 'kaggle', 'imagenet/LOC_val_solution.csv', lambda p: p.write_bytes(np.random.default_rng(4).bytes(700)), 'is not a text file'),
    'imagenet_kaggle_empty_prediction': ('imagenet', 'kaggle', 'imagenet/LOC_val_solution.csv', lambda p: p.write_text(p.read_text().replace('n01440764 1 2 3 4 ', '', 1)), 'row 2 has no ImageId'),
}


@pytest.mark.parametrize('case', list(ANNOTATIONS))
def test_damaged_annotation_file_is_one_line(case, tmp_path):
    "Cut short, binary, a FIFO, the wrong shape or types, labels out of range, image paths out of the folder: one line naming the file."
    name, form, rel, damage, phrase = ANNOTATIONS[case]
    write_miniature(name, tmp_path, form)
    (tmp_path / 'outside.jpg').write_bytes(JPG)
    damage(tmp_path / rel)
    _one_line(lambda: open_dataset(name, tmp_path), tmp_path / rel, phrase)


def test_unknown_flowers_split_is_one_line(tmp_path):
    write_miniature('flowers102', tmp_path)
    _one_line(lambda: open_dataset('flowers102', tmp_path, split='validation'), "split 'validation' is not one of 'test', 'train', 'val'")


@pytest.mark.parametrize('name,rel,row', [('eurosat', E, None), ('dtd', D, 'banded/nope.jpg'), ('oxford-pets', P, 'Abyssinian_999 1 1 1')])
def test_annotation_naming_a_missing_image_skips_and_counts_it(name, rel, row, tmp_path):
    "A row naming an image that is not there is an image until it is loaded: `BadImage` ('file not found'), which evaluation skips and records."
    write_miniature(name, tmp_path)
    if row is None: _json(lambda j: _row0(j, ['AnnualCrop/nope.jpg', 0, 'AnnualCrop']))(tmp_path / rel)
    else: _prepend(row)(tmp_path / rel)
    ds, _ = _open(name, tmp_path)
    bad = [i for i in range(len(ds)) if not Path(ds.items[i][0]).exists()]
    assert len(bad) == 1
    with pytest.raises(BadImage, match='file not found'): ds.load(bad[0])


def test_console_script_damaged_split_file(tmp_path):
    "The real lr0fm_eval on a EuroSAT whose CoOp split file is cut short: exit 2, one stderr line naming the file, no traceback."
    write_miniature('eurosat', tmp_path / 'data'); _cut(tmp_path / 'data' / E)
    r = subprocess.run([str(BIN / 'lr0fm_eval'), '--model', 'lr0fm-mini-s', '--dataset', 'eurosat', '--root', str(tmp_path / 'data'),
                        '--out', str(tmp_path / 'run'), '--resolutions', 'HR', '--quiet'], capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, HF_HUB_OFFLINE='1'))
    err = r.stderr.strip()
    assert r.returncode == 2 and len(err.splitlines()) == 1 and 'Traceback' not in r.stderr + r.stdout, (r.returncode, r.stderr[-2000:])
    assert str(tmp_path / 'data' / E) in err and 'is not valid JSON' in err, err
