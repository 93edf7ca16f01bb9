"""Hostile folder layouts: class folders without images, hidden files and folders, nested junk, damaged CSV lists.

The guards live in nbs/01_data.ipynb (`image_folder`, `csv_dataset`, `_images_in`) and nbs/01a_datasets.ipynb
(`_empty_classes` for the datasets with a fixed class list); the prose there says what each layout does and where
lr0fm differs from torchvision's ImageFolder. Each layout is built in a temporary folder; the user-facing errors are
checked to be one line naming the folder, also through the real `lr0fm_eval` console script.
"""
import os, subprocess, sys, warnings
from pathlib import Path
import pytest
from PIL import Image
from lr0fm.core import Lr0fmError
from lr0fm.data import image_folder, csv_dataset
from lr0fm.registry import get_dataset

os.environ.setdefault('HF_HUB_OFFLINE', '1')
BIN = Path(sys.executable).parent


def _jpg(path: Path, colour=(200, 30, 30)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new('RGB', (24, 24), colour).save(path, 'JPEG'); return path


def _two_classes(root: Path) -> Path:
    "ROOT/cat and ROOT/dog with two good images each."
    for c, col in (('cat', (200, 30, 30)), ('dog', (30, 30, 200))):
        for k in range(2): _jpg(root / c / f'{k}.jpg', col)
    return root


def _error(fn) -> str:
    with pytest.raises(Lr0fmError) as e: fn()
    msg = str(e.value)
    assert '\n' not in msg, msg
    return msg


def _warnings(fn):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always'); out = fn()
    return out, [str(x.message) for x in w]


# each: what the bad class folder holds -> a phrase the error must contain
BAD_CLASS = {
    'empty': ({}, 'it is empty'),
    'ds_store_only': ({'.DS_Store': b'\x00\x00\x00\x01Bud1'}, "it holds only '.DS_Store'"),
    'non_images_only': ({'notes.txt': b'a note', 'labels.csv': b'x,y'}, "it holds only 'labels.csv', 'notes.txt'"),
    'hidden_images_only': ({'._0.jpg': b'\x00\x05\x16\x07AppleDouble', '.1.png': b'junk'}, "it holds only '.1.png', '._0.jpg'"),
    'folder_named_like_an_image': ({'x.jpg/': None}, "it holds only 'x.jpg/'"),
    'images_only_in_sub_folder': ({'batch1/0.jpg': 'jpg'}, "its images are only in sub-folders (e.g. 'bird/batch1/0.jpg'), which are not read"),
    'images_only_in_hidden_sub_folder': ({'.ipynb_checkpoints/0-checkpoint.jpg': 'jpg'}, "it holds only '.ipynb_checkpoints/'"),
}


def _fill(folder: Path, content: dict):
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in content.items():
        if name.endswith('/'): (folder / name).mkdir(parents=True)
        elif data == 'jpg': _jpg(folder / name)
        else: (folder / name).write_bytes(data)


@pytest.mark.parametrize('case', list(BAD_CLASS))
def test_class_folder_without_images_is_an_error_naming_it(case, tmp_path):
    root = _two_classes(tmp_path / 'data')
    content, phrase = BAD_CLASS[case]
    _fill(root / 'bird', content)
    msg = _error(lambda: image_folder(root))
    assert f"class folder {str(root / 'bird')!r} holds no images" in msg and phrase in msg, msg
    assert 'drop_empty_classes=True (lr0fm_eval --drop-empty-classes)' in msg and 'chance level' in msg
    # the same layout with the option: the class is dropped, the others stay, the warning says which and what changes
    ds, w = _warnings(lambda: image_folder(root, drop_empty_classes=True))
    assert (ds.classnames, ds.n_classes, len(ds), ds.split) == (['cat', 'dog'], 2, 4, 'test+2-of-3-classes')
    assert len(w) == 1 and "dropped 1 of 3 class folders that hold no images ('bird')" in w[0] and 'chance level is 1/2, not 1/3' in w[0], w


def test_several_empty_class_folders_are_counted(tmp_path):
    root = _two_classes(tmp_path / 'data')
    for c in ('a_empty', 'b_empty', 'z_empty'): (root / c).mkdir()
    msg = _error(lambda: get_dataset('imagefolder', root))
    assert "3 of the 5 class folders of" in msg and "'a_empty', 'b_empty', 'z_empty'" in msg, msg
    ds, w = _warnings(lambda: get_dataset('imagefolder', root, drop_empty_classes=True))
    assert ds.n_classes == 2 and ds.labels == [0, 0, 1, 1] and 'chance level is 1/2, not 1/5' in w[0]
    for c in ('cat', 'dog'):
        for p in (root / c).iterdir(): p.unlink()
    assert 'has class folders but no images' in _error(lambda: get_dataset('imagefolder', root, drop_empty_classes=True))


def test_hidden_entries_are_never_classes_nor_images(tmp_path):
    root = _two_classes(tmp_path / 'data')
    _jpg(root / '.ipynb_checkpoints' / 'cat-checkpoint.jpg')            # a hidden folder holding an image: not a class
    (root / '.git').mkdir(); (root / '.DS_Store').write_bytes(b'junk'); (root / '__notes.txt').write_text('loose file')
    (root / 'cat' / '._0.jpg').write_bytes(b'\x00\x05\x16\x07')          # AppleDouble copy: not an image (not even a skipped one)
    (root / 'cat' / '.DS_Store').write_bytes(b'junk')
    _jpg(root / 'dog' / '.ipynb_checkpoints' / '0-checkpoint.jpg')       # nested junk inside a class: not read
    _jpg(root / 'dog' / 'extra' / 'deep' / 'x.jpg')                      # a sub-folder inside a class: not read either
    ds = image_folder(root)
    assert ds.classnames == ['cat', 'dog'] and ds.n_classes == 2
    assert [(Path(p).parent.name, Path(p).name) for p, _ in ds.items] == [('cat', '0.jpg'), ('cat', '1.jpg'), ('dog', '0.jpg'), ('dog', '1.jpg')]
    only_hidden = tmp_path / 'only_hidden'; (only_hidden / '.ipynb_checkpoints').mkdir(parents=True)
    assert 'hidden ones such as .ipynb_checkpoints are not classes' in _error(lambda: image_folder(only_hidden))


def test_undecodable_image_stays_a_skipped_image(tmp_path):
    "A file with an image extension is an image until it is loaded; a corrupt one is skipped and recorded, its class kept."
    from lr0fm.data import BadImage
    root = _two_classes(tmp_path / 'data')
    (root / 'bird').mkdir(); (root / 'bird' / 'broken.jpg').write_bytes(b'not a jpeg')
    ds = image_folder(root)
    assert ds.n_classes == 3 and [Path(p).name for p, l in ds.items if l == 0] == ['broken.jpg']
    with pytest.raises(BadImage, match='unreadable image'): ds.load(0)


def test_folder_names_with_odd_characters_give_one_line(tmp_path):
    root = _two_classes(tmp_path / 'data')
    (root / 'two\nlines').mkdir()
    msg = _error(lambda: image_folder(root))
    assert "two\\nlines" in msg


def test_fixed_class_lists_keep_their_classes(tmp_path):
    "ImageNet-A: an empty WordNet-id folder stays one of the 200 classes, with a warning naming it; strict refuses; hidden entries ignored."
    from lr0fm.datasets import open_dataset
    from lr0fm.testing import write_miniature
    write_miniature('imagenet-a', tmp_path)
    a = tmp_path / 'imagenet-a'
    _jpg(a / '.ipynb_checkpoints' / 'x.jpg'); (a / 'n01498041' / '._0.jpg').write_bytes(b'junk')
    ds, w = _warnings(lambda: open_dataset('imagenet-a', tmp_path))
    assert ds.n_classes == 200 and len(ds) == 6 and not any(Path(p).name.startswith('.') for p, _ in ds.items)
    assert any('197 of the 200 class folders in' in m and 'chance level stays 1/200' in m for m in w), w
    msg = _error(lambda: open_dataset('imagenet-a', tmp_path, split='x', strict=True))
    assert '197 of the 200 class folders' in msg and 'partial download?' in msg
    # a missing class folder is an error naming the expected count, as before
    (a / 'n01498041' / '._0.jpg').unlink()
    for p in (a / 'n01498041').iterdir(): p.unlink()
    (a / 'n01498041').rmdir()
    assert '199 of the 200 class folders' in _error(lambda: open_dataset('imagenet-a', tmp_path))
    # drop_empty_classes does not apply to a fixed class list: get_dataset leaves it at 200
    write_miniature('imagenet-r', tmp_path)
    ds, _ = _warnings(lambda: get_dataset('imagenet-r', tmp_path, drop_empty_classes=True))
    assert ds.n_classes == 200


@pytest.mark.parametrize('text,phrase', [
    (b'path,label\n', 'lists no images'),
    (b'path,label\na.jpg,0\nb.jpg\n', 'row 3 has no label'),
    (b'path,label\n,0\n', 'row 2 has no path'),
    (b'\xff\xfe\x00\x01garbage', 'not a readable CSV text file'),
    (b'file,y\na.jpg,0\n', "has no column 'path' (columns: file, y)"),
])
def test_damaged_csv_lists_give_one_line(text, phrase, tmp_path):
    (tmp_path / 'list.csv').write_bytes(text)
    assert phrase in _error(lambda: csv_dataset(tmp_path / 'list.csv'))


def test_csv_gaps_in_integer_labels_warn(tmp_path):
    (tmp_path / 'list.csv').write_text('path,label\na.jpg,1\nb.jpg,2\n')
    ds, w = _warnings(lambda: csv_dataset(tmp_path / 'list.csv'))
    assert ds.n_classes == 3 and any("1 of them ('0') have no rows" in m for m in w), w


def test_console_script_empty_class_folder(tmp_path):
    "The real lr0fm_eval: exit status 2, one stderr line naming the folder, no traceback, nothing evaluated."
    root = _two_classes(tmp_path / 'data'); (root / 'bird').mkdir(); (root / 'bird' / '.DS_Store').write_bytes(b'junk')
    out = tmp_path / 'run'
    r = subprocess.run([str(BIN / 'lr0fm_eval'), '--model', 'lr0fm-mini-s', '--dataset', 'imagefolder', '--root', str(root),
                        '--out', str(out), '--resolutions', 'HR', '--quiet'], capture_output=True, text=True, timeout=120)
    err = r.stderr.strip()
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert len(err.splitlines()) == 1 and 'Traceback' not in r.stderr + r.stdout, r.stderr
    assert err.startswith('lr0fm_eval: error: ') and str(root / 'bird') in err and "it holds only '.DS_Store'" in err, err
    assert not (out / 'results.csv').exists()


def test_console_script_ignores_hidden_entries_and_counts_corrupt_images(tmp_path):
    "Hidden files and folders never reach the results; a corrupt image with an image extension is skipped and listed in skipped.csv."
    import pandas as pd
    root = _two_classes(tmp_path / 'data')
    (root / 'dog' / 'broken.jpg').write_bytes(b'not a jpeg'); (root / 'cat' / '._0.jpg').write_bytes(b'\x00\x05\x16\x07')
    _jpg(root / '.ipynb_checkpoints' / 'x-checkpoint.jpg'); (root / 'cat' / '.DS_Store').write_bytes(b'junk')
    out = tmp_path / 'run'
    r = subprocess.run([str(BIN / 'lr0fm_eval'), '--model', 'lr0fm-mini-s', '--dataset', 'imagefolder', '--root', str(root),
                        '--out', str(out), '--resolutions', 'HR', '--quiet'], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    res, skipped = pd.read_csv(out / 'results.csv'), pd.read_csv(out / 'skipped.csv')
    assert res[['n_images', 'n_classes', 'n_skipped']].values.tolist() == [[4, 2, 1]]
    assert [Path(p).name for p in skipped.image_id] == ['broken.jpg'] and 'unreadable image' in skipped.reason[0]
