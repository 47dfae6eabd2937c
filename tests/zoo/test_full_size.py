"""The zoo's blocks build the published networks: at full size (tests/zoo/full_size/*.yaml, 224x224x3,
1000 classes) the trainable parameter counts equal torchvision's exactly and the MACs match its
published GFLOPS (which count multiply-accumulates, to 2 decimals). Validation only: no framework."""
from __future__ import annotations

import math
from pathlib import Path

import pytest

from xnn.spec import load_spec

HERE = Path(__file__).resolve().parent / "full_size"
# torchvision model cards: (parameters, GFLOPS)
PUBLISHED = {"resnet18": (11_689_512, 1.81), "resnet50": (25_557_032, 4.09), "vgg11": (132_863_336, 7.61),
             "densenet121": (7_978_856, 2.83)}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_full_size_matches_published(name):
    spec = load_spec(HERE / f"{name}.yaml")
    trainable = sum(math.prod(p.shape) for n in spec.nodes for p in n.params.values() if p.trainable)
    macs = sum(n.layer.macs(list(n.in_shapes), tuple(n.out_shape)) for n in spec.nodes)
    params, gflops = PUBLISHED[name]
    assert trainable == params
    assert round(macs / 1e9, 2) == gflops
