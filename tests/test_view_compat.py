"""Views must not change what the paper's resolutions give: the robustness tables of the published results and of a store
with resolution rows only are byte-identical to those of lr0fm before views (SHA-256 of the CSV text, computed with
commit f6d5be8, the last one before `lr0fm.views` reached the pipeline), and adding degraded views to a store leaves them
unchanged."""
import hashlib, json
import pandas as pd
from lr0fm.metrics import robustness_table, tidy_from_store
from lr0fm.published import published_results
from lr0fm.weights import published_weights
from lr0fm.results import ResultStore, _write_shard, cell_id

BEFORE_PUBLISHED = {128: 'f634ee803e53eda912ae6d3b4d7dfeeb7666b6a24aeb04da72c40a5078a977a5',
                    64: '2db72d823fcacad6729fec8205d3bfc5b2ad8af9124b0342a77bae2e76470993',
                    32: 'eed7f3addb13bd46883c8c849523398af1de83bf2af5352f09624b0323206302',
                    16: '2d151045d435589aa82df71043201e6832c7b27a8cd60a627ff783363b74a977'}
BEFORE_STORE = {64: '66bd53bf2c0d5f071ea1bccaf6604813b673cd9da56fc816731eaf7988e435bd',
                16: 'ae7cd3dde58b597b5b388560a6639055255953d3ea92ef3e91e29eb1950e6409'}


def _digest(table: pd.DataFrame) -> str: return hashlib.sha256(table.to_csv(index=False).encode()).hexdigest()


def _fill(root, views=(), fmt=3):
    """Two models x two datasets at HR, 64, 16 (and `views`), with made-up accuracies and a few predictions each; fmt=2 writes
    the shards as lr0fm before views did (key column `resolution`), fmt=3 under `view`."""
    st = ResultStore(root); st._init()
    key = 'resolution' if fmt == 2 else 'view'
    labels = ('HR', '64', '16') + tuple(views)
    for m, acc in (('m1', (0.8, 0.6, 0.3)), ('m2', (0.7, 0.65, 0.5))):
        acc = acc + (0.2,) * len(views)
        for d, C in (('dtd', 47), ('eurosat', 10)):
            ident = dict(model=m, pretrained='p', dataset=d, split='test', protocol='model')
            rows = [dict(ident, **{key: r}, n_images=100, n_classes=C, top1=a * (0.9 if d == 'dtd' else 1), top5=1.0, n_skipped=0, toy=False)
                    for r, a in zip(labels, acc)]
            preds = pd.DataFrame([dict(ident, image_id=f'{d}/{k}', label=k % C, **{key: r}, **{f'pred_{j}': (k + j) % C for j in range(1, 6)})
                                  for k in range(4) for r in labels])
            if fmt == 2:  # rows as `add` wrote them then: through pandas' JSON, which keeps 10 decimals
                _write_shard(st.shards_dir / cell_id(ident), json.loads(pd.DataFrame(rows).to_json(orient='records')), preds, [], fmt=2)
            else: st.add(rows, preds)
    return tidy_from_store(ResultStore(root).results())


def test_published_tables_unchanged():
    t, w = published_results(), published_weights()
    assert {n: _digest(robustness_table(t, n, w)) for n in BEFORE_PUBLISHED} == BEFORE_PUBLISHED


def test_resolution_store_tables_unchanged(tmp_path):
    for fmt in (2, 3):  # a store written before views (key `resolution`) and one written now (key `view`)
        t = _fill(tmp_path / f'a{fmt}', fmt=fmt)
        assert {n: _digest(robustness_table(t, n)) for n in BEFORE_STORE} == BEFORE_STORE


def test_views_leave_resolution_tables_alone(tmp_path):
    t = _fill(tmp_path / 'b', views=('16+jpeg-q30', 'blur-s2', '32@nearest'))
    assert set(t['resolution']) == {'HR', '64', '16', '16+jpeg-q30', 'blur-s2', '32@nearest'}
    assert {n: _digest(robustness_table(t, n)) for n in BEFORE_STORE} == BEFORE_STORE
    jp = robustness_table(t, '16+jpeg-q30').set_index('model')
    assert abs(jp.loc['m1 (p)', 'gamma_eurosat'] - 0.2 / 0.8 * 100) < 1e-9  # gamma of a view, as of a resolution
