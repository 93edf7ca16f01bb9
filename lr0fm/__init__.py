"""lr0fm: zero-shot low-resolution robustness of vision-language foundation models (LR0.FM, ICLR 2025).

Benchmark CLIP-like models at their native resolution and at 128, 64, 32 and 16 px, compute the paper's metrics
(gamma, Gamma, SAR, WAR, ACC) and train LR-TK0 tokens. Every public name is in one import::

    from lr0fm.all import *
    model = load_model('ViT-B-32', 'openai')                      # or 'lr0fm-mini-s', the embedded toy model
    store = ResultStore('runs/mine')                              # a resumable run folder
    eval_cell(model, get_dataset('imagefolder', '/data/my_images'), store, resolutions=['HR', 64, 32, 16])
    robustness_table(tidy_from_store(store.results()), 16)        # SAR, WAR, ACC, gamma and Gamma per dataset

Each stage is a module named after it (`lr0fm.data`, `lr0fm.degrade`, `lr0fm.models`, `lr0fm.zeroshot`,
`lr0fm.results`, `lr0fm.metrics`, `lr0fm.analysis`, `lr0fm.lrtk0`, ...); the command-line tools are `lr0fm_*`
(`lr0fm_demo`, `lr0fm_eval`, `lr0fm_sweep`, ...). Docs: https://lr0fm.github.io/lr0fm
"""
__version__ = "0.1.0"
