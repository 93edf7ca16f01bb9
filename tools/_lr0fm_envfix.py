"""Environment fix installed by lr0fm's tools/install.sh; not part of the lr0fm library.

A torchvision wheel built for CUDA torch cannot register its C++ operators on a CPU-only torch, and
`import torchvision` then fails with "operator torchvision::nms does not exist" (pytorch/vision#9085).
Declaring the `nms` and `qnms` schemas before torchvision loads lets its pure-Python parts (transforms)
work. The declaration happens lazily, on the first `import torchvision`, so start-up stays fast.
install.sh only installs this hook where plain `import torchvision` fails.
"""
import sys, importlib.abc

_LIB = None

class _TorchvisionOpsFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        global _LIB
        if name != "torchvision" or _LIB is not None: return None
        try:
            import torch
            _LIB = torch.library.Library("torchvision", "DEF")
            _LIB.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
            _LIB.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        except Exception:
            _LIB = False  # already defined by a working build: nothing to do
        return None

def install():
    if not any(isinstance(f, _TorchvisionOpsFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _TorchvisionOpsFinder())
