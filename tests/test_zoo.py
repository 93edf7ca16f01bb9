"""Catalogue checks that need no model: it joins the shipped published results, the command prints every required column,
and reading or searching it imports no torch (the availability check does, through open_clip)."""
import io, subprocess, sys
from pathlib import Path
import pandas as pd
from lr0fm.zoo import catalogue, FAMILY_COUNTS, models_table

def test_catalogue_joins_published_results():
    from lr0fm.published import published_results
    pub = published_results()[['model', 'family']].drop_duplicates()
    cat = catalogue()
    assert len(cat) == 66 and cat.family.value_counts().to_dict() == FAMILY_COUNTS
    merged = cat.merge(pub, left_on='name', right_on='model', how='outer', indicator=True)
    assert (merged._merge == 'both').all(), merged[merged._merge != 'both'][['name', 'model']]
    assert (merged.family_x == merged.family_y).all()

def test_catalogue_values():
    cat = catalogue()
    assert cat.source.str.match(r'^(open_clip|hf|url|modelscope):').all()
    assert set(cat.loader) == {'open_clip', 'blip', 'albef', 'eva_clip_hf', 'm2_encoder'}
    assert (cat.input_size >= 224).all() and (cat.params_m > 0).all()
    oc = cat[cat.loader == 'open_clip']
    assert len(oc) == 50 and oc.gflops.notna().sum() == 49  # every open_clip row but the 378-px DFN model
    # names that say @336px/@384px/... have that input size, except the two documented mismatches
    said = cat.name.str.extract(r'@(\d+)px')[0].dropna().astype(int)
    odd = cat.loc[said.index][cat.loc[said.index].input_size != said].name.tolist()
    assert sorted(odd) == ['OpenCLIP-ViT-H/14-quickgelu@336px', 'SigLIP-ViT-SO400M@336px']
    assert (cat.loc[cat.name.isin(odd), 'mapping'] == 'uncertain').all()

def test_csv_command_columns():
    df = pd.read_csv(io.StringIO(models_table(as_csv=True)))
    need = ['family', 'name', 'arch', 'source', 'params_m', 'gflops', 'input_size', 'pretrain_data', 'pretrain_size_m', 'finetuned', 'available']
    assert all(c in df.columns for c in need) and len(df) == 66

def test_import_without_torch():
    r = subprocess.run([sys.executable, '-c', 'import sys, lr0fm.zoo as z; z.catalogue(); z.find_backbone("RN50"); print("torch" in sys.modules)'],
                       capture_output=True, text=True)
    assert r.stdout.strip() == 'False', r.stderr

def test_missing_hf_extra_names_the_package(monkeypatch):
    "Without transformers (the `hf` extra), the catalogue, the loader and the hf loaders say which package to install."
    import pytest
    from lr0fm.core import Lr0fmError
    from lr0fm.zoo import availability, find_backbone, load_backbone, catalogue_status
    monkeypatch.setitem(sys.modules, 'transformers', None)   # import transformers now raises ImportError
    need = 'pip install "lr0fm[hf]"'
    for name in ('BLIP-ViT-B/16 (129M)', 'ALBEF (4M)'):
        ok, why = availability(find_backbone(name))
        assert not ok and need in why and 'transformers' in why, why
        with pytest.raises(Lr0fmError, match=r'pip install "lr0fm\[hf\]"') as e: load_backbone(name, seed=0)
        assert name in str(e.value)
    st = catalogue_status('BLIP')
    assert (~st.available).all() and st.why.str.contains('lr0fm[hf]', regex=False).all()
    from lr0fm.hf_models import need_transformers, load_blip
    for f in (need_transformers, lambda: load_blip(seed=0)):
        with pytest.raises(Lr0fmError, match=r'pip install "lr0fm\[hf\]"'): f()

def test_counted_gflops_reproduce():
    "The GFLOPs filled in for the non-open_clip rows: torch's FlopCounterMode on meta-device builds (image tower; ALBEF/BLIP image side only, cheap)."
    import torch
    from torch.utils.flop_counter import FlopCounterMode
    from lr0fm import hf_models as H
    cat = catalogue()
    rest = cat[cat.loader != 'open_clip']
    assert rest.gflops.isna().tolist() == (rest.name == 'EVA-CLIP-8B').tolist()          # all but EVA-CLIP-8B (remote code)
    got = rest.dropna(subset=['gflops'])
    assert ((got.image_gflops + got.text_gflops - got.gflops).abs() < 0.015).all()
    def image_gflops(m, size):
        fc = FlopCounterMode(display=False)
        with fc, torch.no_grad(): m.encode_image(torch.ones(1, 3, size, size, device='meta'))
        return round(fc.get_total_flops() / 1e9, 2)
    with torch.device('meta'):
        m2, albef = H.M2Encoder(**H.M2_CONFIGS['M2-Encoder-1B']), H.ALBEFContrastive(**H.ALBEF_BASE)
    got = {'M2-Encoder-1B': image_gflops(m2, 224), 'ALBEF (4M)': image_gflops(albef, 384)}
    for name, g in got.items(): assert cat.set_index('name').loc[name, 'image_gflops'] == g, (name, g)
