"""Registry-generated parity: every layer case, NumPy reference vs torch vs Keras.

float64 forward at rtol 1e-10, float32 at 1e-5 times the output scale, and float64 gradients
(input and every parameter) between torch and Keras.
"""
import numpy as np
import pytest

from xnn.init import init_params
from xnn.reference import forward

from .harness import GRAD_RTOL, all_cases, assert_close, case_input, case_spec, keras_grads, torch_grads

CASES = all_cases()
IDS = [c[2] for c in CASES]


@pytest.mark.parametrize("kind,case,cid", CASES, ids=IDS)
def test_shape_inference_matches_reference(kind, case, cid):
    spec = case_spec(kind, case)
    x = case_input(spec, case)
    y = forward(spec, init_params(spec, seed=1), x)
    assert y.shape == (len(x), *spec.output.out_shape)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kind,case,cid", CASES, ids=IDS)
def test_forward_torch_keras_numpy(kind, case, cid, dtype):
    from xnn.backends import get

    spec = case_spec(kind, case, dtype)
    params = init_params(spec, seed=1)
    x = case_input(spec, case)
    if np.issubdtype(x.dtype, np.floating):
        x = x.astype(dtype)
    ref = forward(spec, params, x)
    yt = get("torch").predict(get("torch").build(spec, params, dtype=dtype), x)
    yk = get("keras").predict(get("keras").build(spec, params, dtype=dtype), x)
    assert_close(yt, ref, dtype, "torch vs numpy")
    assert_close(yk, ref, dtype, "keras vs numpy")
    assert_close(yt, yk, dtype, "torch vs keras")


@pytest.mark.parametrize("kind,case,cid", [c for c in CASES if c[1].train_ok], ids=[c[2] for c in CASES if c[1].train_ok])
def test_gradients_torch_keras(kind, case, cid):
    spec = case_spec(kind, case, "float64")
    params = init_params(spec, seed=1)
    x = case_input(spec, case)
    r = np.random.default_rng(5).normal(size=(len(x), *spec.output.out_shape))
    gt, gxt = torch_grads(spec, params, x, r)
    gk, gxk = keras_grads(spec, params, x, r)
    assert set(gt) == set(gk), f"trainable params differ: {sorted(gt)} vs {sorted(gk)}"
    for k in gt:
        np.testing.assert_allclose(gt[k], gk[k], rtol=GRAD_RTOL, atol=1e-12, err_msg=f"d loss / d {k}")
    if gxt is not None:
        np.testing.assert_allclose(gxt, gxk, rtol=GRAD_RTOL, atol=1e-12, err_msg="d loss / d input")


@pytest.mark.parametrize("kind,case,cid", CASES, ids=IDS)
def test_weight_roundtrip_exact(kind, case, cid):
    from xnn.backends import get

    spec = case_spec(kind, case)
    params = init_params(spec, seed=3)
    for name in ("torch", "keras"):
        be = get(name)
        back = be.get_params(be.build(spec, params, dtype="float64"))
        assert set(back) == set(params)
        for k in params:
            np.testing.assert_array_equal(back[k], params[k], err_msg=f"{name}: {k}")


def test_every_layer_has_lowerings_and_cases():
    from xnn.backends import get
    from xnn.spec import layers

    reg = layers()
    missing = []
    for kind, cls in reg.items():
        if not cls.cases():
            missing.append(f"{kind}: no parity cases")
        for be in ("torch", "keras"):
            if hasattr(cls, "expand"):  # composites are replaced by their parts before any backend
                continue
            if kind not in get(be).lowerings():
                missing.append(f"{kind}: no {be} lowering")
    assert not missing, "\n".join(missing)
