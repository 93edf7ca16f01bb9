"""Build `lr0fm/assets/wordnet/imagenet_hierarchy.json`, the WordNet 3.0 noun hierarchy above the ImageNet classes.

Source: WordNet 3.0 (Princeton University), as shipped in Debian's `wordnet-base` package (1:3.0-37):

    cd /tmp && apt-get download wordnet-base && dpkg-deb -x wordnet-base_*.deb /tmp/wn
    .venv/bin/python tools/build_wordnet_hierarchy.py --data-noun /tmp/wn/usr/share/wordnet/data.noun

The script reads `data.noun` directly (no NLTK). Each data line is
`offset lex_filenum ss_type w_cnt word lex_id [word lex_id ...] p_cnt [ptr_symbol offset pos source/target ...] ... | gloss`,
with w_cnt in hexadecimal and p_cnt in decimal. Hypernym pointers are `@` (class) and `@i` (instance); both count as
parents. ImageNet's wnid of a synset is 'n' followed by its 8-digit offset.

Kept: every synset on any hypernym path from one of the 1,000 ImageNet classes (which include the 200 of ImageNet-A
and ImageNet-R) up to `entity` (n00001740), with all its parents (a DAG) and its first lemma as name.
The output is deterministic: keys sorted, parents sorted.
"""
from __future__ import annotations
import argparse, hashlib, json, sys
from pathlib import Path

ROOT = 'n00001740'  # entity
FORMAT = 1

def parse_data_noun(path:Path)->dict:
    "wnid -> (first lemma, sorted list of hypernym wnids) for every noun synset in a WordNet `data.noun` file."
    out = {}
    with open(path, encoding='latin-1') as f:  # WordNet 3.0 data files are ASCII apart from a few glosses
        for line in f:
            if line.startswith('  '): continue  # the licence header lines start with two spaces
            fields = line.split(' | ', 1)[0].split()
            offset, ss_type, w_cnt = fields[0], fields[2], int(fields[3], 16)
            if ss_type != 'n': raise ValueError(f'{path}: synset {offset} has type {ss_type!r}, expected a noun')
            words = fields[4:4 + 2 * w_cnt:2]
            i = 4 + 2 * w_cnt
            p_cnt = int(fields[i]); i += 1
            parents = set()
            for k in range(p_cnt):
                sym, target, pos = fields[i + 4 * k: i + 4 * k + 3]
                if sym in ('@', '@i') and pos == 'n': parents.add('n' + target)
            out['n' + offset] = (words[0].replace('_', ' '), sorted(parents))
    return out

def licence_text(path:Path)->str:
    "The WordNet licence, copyright notice and disclaimer from the numbered header lines of `data.noun`."
    lines = []
    with open(path, encoding='latin-1') as f:
        for line in f:
            if not line.startswith('  '): break
            lines.append(line.strip().split(' ', 1)[1].rstrip() if ' ' in line.strip() else '')
    return '\n'.join(lines).strip()

def ancestors_closure(syn:dict, leaves:list[str])->dict:
    "The sub-DAG of `syn` holding `leaves` and all their hypernyms."
    keep, todo = {}, list(leaves)
    while todo:
        w = todo.pop()
        if w in keep: continue
        if w not in syn: raise SystemExit(f'{w} is not a WordNet 3.0 noun synset; is data.noun from WordNet 3.0?')
        keep[w] = syn[w]
        todo.extend(syn[w][1])
    return keep

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--data-noun', default='/tmp/wn/usr/share/wordnet/data.noun', help='WordNet 3.0 data.noun')
    ap.add_argument('--out', default=str(Path(__file__).resolve().parents[1] / 'lr0fm' / 'assets' / 'wordnet' / 'imagenet_hierarchy.json'))
    ap.add_argument('--package-version', default='1:3.0-37', help="the Debian wordnet-base version the file came from")
    a = ap.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from lr0fm.datasets import imagenet_wnids
    leaves = imagenet_wnids()
    for sub in ('imagenet_a', 'imagenet_r'):
        extra = set(imagenet_wnids(sub)) - set(leaves)
        if extra: raise SystemExit(f'{sub} has wnids outside the 1,000 ImageNet classes: {sorted(extra)[:5]}')
    data = Path(a.data_noun).read_bytes()
    syn = parse_data_noun(Path(a.data_noun))
    keep = ancestors_closure(syn, leaves)
    roots = [w for w, (_, ps) in keep.items() if not ps]
    if roots != [ROOT]: raise SystemExit(f'expected the single root {ROOT} (entity), found {roots}')
    doc = dict(format=FORMAT, version='WordNet 3.0',
               source=f'Debian package wordnet-base {a.package_version} (WordNet 3.0, Princeton University), file data.noun',
               source_sha256=hashlib.sha256(data).hexdigest(), root=ROOT,
               license=licence_text(Path(a.data_noun)),
               note='nodes: wnid -> [first lemma, [parent wnids]]; parents are hypernyms (@) and instance hypernyms (@i); '
                    'all synsets on any path from the 1,000 ImageNet classes to entity',
               nodes={w: [n, ps] for w, (n, ps) in sorted(keep.items())})
    out = Path(a.out); out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, separators=(',', ':'), sort_keys=False) + '\n')
    multi = sum(len(ps) > 1 for _, ps in keep.values())
    print(f'{out}: {len(keep)} nodes, {multi} with more than one parent, {out.stat().st_size} bytes')

if __name__ == '__main__': main()
