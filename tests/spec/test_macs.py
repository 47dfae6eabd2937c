"""``Layer.macs`` (what ``xnn info`` and docs/zoo.md report) agrees with torch's own FLOP counter
(``torch.utils.flop_counter``, which counts 2 FLOPs per multiply-accumulate of mm/conv/SDPA) on
every Dense and convolution case and on the default example; attention by its formula (torch's
counter sees the fused attention kernel on some paths only)."""
from __future__ import annotations

import numpy as np
import pytest

from xnn.cases import all_cases, case_input, case_spec
from xnn.spec import load_spec as load

COUNTED = {"Dense", "Conv1D", "Conv2D"}
CASES = [c for c in all_cases() if c[0] in COUNTED]


def _torch_macs(spec, x: np.ndarray) -> int:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from xnn.backends import torch as tb
    from xnn.init import init_params

    m = tb.build(spec, init_params(spec, seed=0), dtype="float64")
    m.eval()
    with FlopCounterMode(display=False) as fc, torch.no_grad():
        m(torch.tensor(x))
    return fc.get_total_flops() // (2 * len(x))


@pytest.mark.parametrize("kind,case,cid", CASES, ids=[c[2] for c in CASES])
def test_macs_match_torch_flop_counter(kind, case, cid):
    spec = case_spec(kind, case)
    ours = sum(n.layer.macs(list(n.in_shapes), tuple(n.out_shape)) for n in spec.nodes)
    assert ours > 0
    assert ours == _torch_macs(spec, case_input(spec, case, n=2)), cid


def test_default_example_macs():
    spec = load("examples/digits_cnn.yaml")
    ours = sum(n.layer.macs(list(n.in_shapes), tuple(n.out_shape)) for n in spec.nodes)
    # conv1 8*8*16*(1*9) + conv2 4*4*32*(16*9) + logits 10*512
    assert ours == 8 * 8 * 16 * 9 + 4 * 4 * 32 * 16 * 9 + 10 * 512
    assert ours == _torch_macs(spec, np.random.default_rng(0).random((2, *spec.input_shape)))


def test_attention_macs_formula():
    from xnn.spec import from_dict

    spec = from_dict({"input": {"shape": [6, 4]}, "model": [
        {"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 3, "value_dim": 5, "output_dim": 7}]})
    (n,) = spec.nodes
    # projections q (6x4 -> 2x3), k (6x4 -> 2x3), v (6x4 -> 2x5), scores 2x6x6x3, mix 2x6x6x5, out 6x10 -> 7
    want = 6 * 4 * 6 + 6 * 4 * 6 + 6 * 4 * 10 + 2 * 6 * 6 * 3 + 2 * 6 * 6 * 5 + 6 * 10 * 7
    assert n.layer.macs(list(n.in_shapes), tuple(n.out_shape)) == want
