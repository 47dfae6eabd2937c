"""Core layers inside mixed graphs, where the torch backend runs channels-first between conv
layers: BatchNorm / Concatenate / Add / GlobalAvgPool on channels-first tensors, pooling after
convolutions, and Flatten's (H, W, C) order feeding a Dense. Forward (NumPy vs torch vs Keras,
float64) and gradients (torch vs Keras) with non-trivial BatchNorm/LayerNorm parameters.
"""
import numpy as np
import pytest

from xnn.init import init_params
from xnn.reference import forward
from xnn.spec import from_dict

from .harness import GRAD_RTOL, assert_close, keras_grads, torch_grads

GRAPHS = {
    "conv2d_bn_pool_concat_flatten": ([9, 7, 3], [
        {"type": "Conv2D", "name": "c1", "filters": 4, "kernel_size": 3, "padding": "same"},
        {"type": "BatchNorm", "name": "bn"},
        {"type": "MaxPool2D", "name": "mp", "pool_size": [3, 2], "strides": 2, "padding": "same"},
        {"type": "Conv2D", "name": "c2", "filters": 3, "kernel_size": 1, "inputs": ["mp"]},
        {"type": "Concatenate", "name": "cat", "inputs": ["mp", "c2"]},
        {"type": "AvgPool2D", "name": "ap", "pool_size": 2, "strides": 1, "padding": "same"},
        {"type": "Flatten", "name": "fl"},
        {"type": "Dense", "name": "out", "units": 5},
    ]),
    "conv2d_add_gap_layernorm": ([8, 6, 2], [
        {"type": "Conv2D", "name": "a", "filters": 4, "kernel_size": 3, "padding": "same"},
        {"type": "Conv2D", "name": "b", "filters": 4, "kernel_size": 1, "inputs": ["input"]},
        {"type": "Add", "name": "sum", "inputs": ["a", "b"]},
        {"type": "BatchNorm", "name": "bn", "eps": 1e-3, "momentum": 0.3},
        {"type": "GlobalAvgPool2D", "name": "gap"},
        {"type": "LayerNorm", "name": "ln"},
        {"type": "Dense", "name": "out", "units": 3},
    ]),
    "conv1d_concat_time_reshape": ([10, 3], [
        {"type": "Conv1D", "name": "a", "filters": 4, "kernel_size": 3, "padding": "same"},
        {"type": "Conv1D", "name": "b", "filters": 4, "kernel_size": 2, "strides": 2, "padding": "same"},
        {"type": "AvgPool1D", "name": "pa", "pool_size": 3, "strides": 2, "padding": "same", "inputs": ["a"]},
        {"type": "Concatenate", "name": "cat", "axis": 1, "inputs": ["pa", "b"]},
        {"type": "Dropout", "name": "drop", "rate": 0.25},
        {"type": "Reshape", "name": "rs", "target_shape": [-1, 8]},
        {"type": "Conv1D", "name": "c", "filters": 2, "kernel_size": 3},
        {"type": "GlobalAvgPool1D", "name": "gap"},
    ]),
}


def _spec(name):
    shape, model = GRAPHS[name]
    return from_dict({"input": {"shape": shape}, "model": model,
                      "train": {"dtype": "float64", "loss": "mse", "metrics": []}})


def _params(spec):
    """Seeded params with random (not ones/zeros) normalization weights and statistics."""
    p = init_params(spec, seed=2)
    rng = np.random.default_rng(11)
    for k in p:
        if k.endswith((".weight", ".bias", ".running_mean")) and spec.param_shapes()[k].group in ("norm", "buffer"):
            p[k] = rng.normal(size=p[k].shape)
        elif k.endswith(".running_var"):
            p[k] = rng.uniform(0.5, 2.0, size=p[k].shape)
    return p


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_graph_forward_and_gradients(name):
    from xnn.backends import get

    spec = _spec(name)
    params = _params(spec)
    x = np.random.default_rng(4).normal(size=(3, *spec.input_shape))
    ref = forward(spec, params, x)
    yt = get("torch").predict(get("torch").build(spec, params, dtype="float64"), x)
    yk = get("keras").predict(get("keras").build(spec, params, dtype="float64"), x)
    assert_close(yt, ref, "float64", "torch vs numpy")
    assert_close(yk, ref, "float64", "keras vs numpy")

    r = np.random.default_rng(5).normal(size=(len(x), *spec.output.out_shape))
    gt, gxt = torch_grads(spec, params, x, r)
    gk, gxk = keras_grads(spec, params, x, r)
    assert set(gt) == set(gk)
    for k in gt:
        np.testing.assert_allclose(gt[k], gk[k], rtol=GRAD_RTOL, atol=1e-12, err_msg=f"d loss / d {k}")
    np.testing.assert_allclose(gxt, gxk, rtol=GRAD_RTOL, atol=1e-12, err_msg="d loss / d input")


def test_flatten_order_is_hwc():
    """Element (h, w, c) of an image lands at h*W*C + w*C + c on every path (torch runs cf)."""
    from xnn.backends import get

    spec = from_dict({"input": {"shape": [3, 4, 2]}, "model": [
        {"type": "Conv2D", "name": "id", "filters": 2, "kernel_size": 1, "use_bias": False},
        {"type": "Flatten", "name": "fl"}]})
    params = {"id.weight": np.eye(2).reshape(2, 2, 1, 1)}  # identity 1x1 conv: forces torch into cf
    x = np.arange(24, dtype=np.float64).reshape(1, 3, 4, 2)
    for be in ("torch", "keras"):
        y = get(be).predict(get(be).build(spec, params, dtype="float64"), x)
        np.testing.assert_array_equal(y, x.reshape(1, -1), err_msg=be)


@pytest.mark.parametrize("shape,layer,where", [
    ([4, 6], {"type": "Reshape", "target_shape": [5, 5]}, "model[0].target_shape: [5, 5] holds 25 elements"),
    ([4, 6], {"type": "Reshape", "target_shape": [-1, 5]}, "model[0].target_shape: 24 elements cannot fill"),
    ([4, 6], {"type": "Reshape", "target_shape": [-1, -1]}, "model[0].target_shape:"),
    ([4, 6], {"type": "Dropout", "rate": 1.0}, "model[0].rate: must be < 1.0"),
    ([4, 6], {"type": "BatchNorm", "momentum": 1.5}, "model[0].momentum: must be <= 1.0"),
    ([1, 6], {"type": "MaxPool1D", "pool_size": 3}, "model[0].pool_size: pool larger than the input"),
    ([3, 6, 2], {"type": "AvgPool2D", "pool_size": [2, 2, 2]}, "model[0].pool_size: needs 2 values"),
    ([2, 3, 4, 6], {"type": "BatchNorm"}, "model[0]: BatchNorm takes"),
])
def test_shape_errors_name_the_field(shape, layer, where):
    from xnn.errors import SpecError

    with pytest.raises(SpecError) as e:
        from_dict({"input": {"shape": shape}, "model": [layer]})
    assert any(m.startswith(where) for m in e.value.messages), e.value.messages


@pytest.mark.parametrize("merge,where", [
    ({"type": "Add"}, "model[2].inputs: all inputs need the same shape"),
    ({"type": "Concatenate", "axis": 1}, "model[2].inputs: inputs must agree on every axis but 1"),
    ({"type": "Concatenate", "axis": 0}, "model[2].axis: axis 0 out of range"),
])
def test_merge_shape_errors(merge, where):
    from xnn.errors import SpecError

    model = [{"type": "Dense", "units": 3, "name": "a"}, {"type": "Dense", "units": 4, "name": "b", "inputs": ["input"]},
             {**merge, "inputs": ["a", "b"]}]
    with pytest.raises(SpecError) as e:
        from_dict({"input": {"shape": [4, 6]}, "model": model})
    assert any(m.startswith(where) for m in e.value.messages), e.value.messages


def test_torch_model_runs_a_node_module_the_user_replaces():
    import torch

    from xnn.backends import get
    from xnn.spec import from_dict

    chain = [{"type": "Dense", "units": 3, "name": "a"}, {"type": "relu", "name": "o"}]
    graph = [{"type": "Dense", "units": 3, "name": "a"}, {"type": "Dense", "units": 3, "name": "b", "inputs": ["input"]},
             {"type": "Add", "name": "s", "inputs": ["a", "b"]}, {"type": "relu", "name": "o"}]
    x = -torch.ones(2, 4) * 3
    for model in (chain, graph):
        m = get("torch").build(from_dict({"input": {"shape": [4]}, "model": model}))
        m.layers["o"] = torch.nn.Identity()  # no relu any more: negative outputs must appear
        pre = m.layers["a"](x) if model is chain else m.layers["a"](x) + m.layers["b"](x)
        assert torch.equal(m(x), pre)
