"""Shared ONNX pieces of the sequence layers: reductions across opsets, masks, and the
recurrent layers (ONNX ``LSTM``/``GRU``, time-major ``layout=0`` between Transposes)."""
from __future__ import annotations

import numpy as np

from ..mapping import Graph


def reduce(g: Graph, op: str, x: str, axes: list[int], name: str, keepdims: int = 0) -> str:
    """``ReduceSum`` takes ``axes`` as an input from opset 13, the others from opset 18."""
    if op == "ReduceSum" or g.opset >= 18:
        return g.op(op, [x, g.ints(f"{name}.axes", axes)], name, keepdims=keepdims)
    return g.op(op, [x], name, axes=axes, keepdims=keepdims)


def unsqueeze(g: Graph, x: str, axes: list[int], name: str) -> str:
    return g.op("Unsqueeze", [x, g.ints(f"{name}.axes", axes)], name)


def reshape(g: Graph, x: str, shape: list[int], name: str) -> str:
    """Reshape with ``0`` = copy that axis (the batch size stays dynamic)."""
    return g.op("Reshape", [x, g.ints(f"{name}.shape", shape)], name)


def rnn(node, g: Graph, xs: list[str], params: dict[str, np.ndarray], op: str) -> str:
    """LSTM/GRU per ``xnn/layers/_rnn.py``: one ONNX op per stacked layer, both directions in it."""
    L = node.layer
    n = node.name
    has_mask, has_state = L.roles(len(xs))
    t, _ = node.in_shapes[0]
    h, dirs, k = L.units, L.dirs, L.states
    sfx = L.suffixes()
    # torch i,f,g,o -> ONNX i,o,f,c; torch r,z,n -> ONNX z,r,h
    perm = [0, 3, 1, 2] if op == "LSTM" else [1, 0, 2]

    def blocks(a: np.ndarray) -> np.ndarray:
        return np.concatenate([np.split(a, len(perm), axis=0)[i] for i in perm], axis=0)

    seq_lens, mask_f, nonempty = "", None, None
    if has_mask:
        mask_f = xs[1]  # (N, T) float
        total = reduce(g, "ReduceSum", mask_f, [1], f"{n}_len")  # (N,)
        seq_lens = g.op("Cast", [total], f"{n}_seq_lens", to=6)  # int32
        nonempty = unsqueeze(g, g.op("Cast", [g.op("Greater", [total, g.scalar(f"{n}.half", 0.5)], f"{n}_ne_b")],
                                     f"{n}_nonempty", to=g.elem_type), [1], f"{n}_nonempty2")  # (N, 1)
    init = None
    if has_state:  # (N, S) -> (N, L*D, k, H)
        init = reshape(g, xs[-1], [0, L.num_layers * dirs, k, h], f"{n}_init")
    x = g.transpose(xs[0], [1, 0, 2], f"{n}_time_major")  # (T, N, F)
    finals = []
    y = x
    for li in range(L.num_layers):
        w = np.stack([blocks(params[f"weight_ih_l{li}{s}"]) for s in sfx])
        r = np.stack([blocks(params[f"weight_hh_l{li}{s}"]) for s in sfx])
        # B = [Wb, Rb]: PyTorch's bias_ih, bias_hh (both kinds keep the two)
        b = np.stack([np.concatenate([blocks(params[f"bias_ih_l{li}{s}"]), blocks(params[f"bias_hh_l{li}{s}"])])
                      for s in sfx])
        ins = [y, g.init(f"{n}.W_l{li}", w), g.init(f"{n}.R_l{li}", r), g.init(f"{n}.B_l{li}", b), seq_lens]
        if init is not None:
            sl = g.op("Gather", [init, g.ints(f"{n}.idx_l{li}", list(range(li * dirs, (li + 1) * dirs)))],
                      f"{n}_init_l{li}", axis=1)  # (N, D, k, H)
            for j in range(k):
                st = g.op("Gather", [sl, g.ints(f"{n}.j{j}", j)], f"{n}_init_l{li}_{j}", axis=2)  # (N, D, H)
                ins.append(g.transpose(st, [1, 0, 2], f"{n}_h0_l{li}_{j}"))
        while ins[-1] == "":  # optional inputs left out at the end
            ins.pop()
        attrs = {"hidden_size": h, "direction": "bidirectional" if dirs == 2 else "forward"}
        if op == "GRU":
            attrs["linear_before_reset"] = 1
        outs = 3 if op == "LSTM" else 2
        y_all = g.op(op, ins, f"{n}_l{li}", n_out=outs, **attrs)  # Y (T, D, N, H)
        last_node = g.nodes[-1]
        finals.append(list(last_node.output[1:]))  # Y_h (D, N, H) [, Y_c]
        seq = y_all
        if li < L.num_layers - 1:  # next layer input: (T, N, D*H)
            y = reshape(g, g.transpose(seq, [0, 2, 1, 3], f"{n}_l{li}_tndh"), [t, -1, dirs * h], f"{n}_l{li}_next")
    if L.output == "sequences":
        if L.merge == "sum" and dirs == 2:
            out = g.transpose(reduce(g, "ReduceSum", seq, [1], f"{n}_dsum"), [1, 0, 2], f"{n}_nth")
        else:
            out = reshape(g, g.transpose(seq, [2, 0, 1, 3], f"{n}_ntdh"), [0, t, -1], f"{n}_seq")
        if mask_f is not None:  # padded steps are zeros
            out = g.op("Mul", [out, unsqueeze(g, mask_f, [2], f"{n}_mask3")], f"{n}_masked")
        return out
    if L.output == "last":
        yh = finals[-1][0]
        if L.merge == "sum" and dirs == 2:
            out = reduce(g, "ReduceSum", yh, [0], f"{n}_lastsum")
        else:
            out = reshape(g, g.transpose(yh, [1, 0, 2], f"{n}_ndh"), [0, -1], f"{n}_last")
    else:
        per_layer = []
        for li, f in enumerate(finals):
            parts = [unsqueeze(g, s, [1], f"{n}_st{li}_{j}") for j, s in enumerate(f)]  # (D, 1, N, H)
            per_layer.append(g.op("Concat", parts, f"{n}_st{li}", axis=1) if k == 2 else parts[0])
        st = g.op("Concat", per_layer, f"{n}_states", axis=0) if len(per_layer) > 1 else per_layer[0]  # (L*D, k, N, H)
        out = reshape(g, g.transpose(st, [2, 0, 1, 3], f"{n}_st_n"), [0, -1], f"{n}_state")
    if nonempty is not None:
        out = g.op("Mul", [out, nonempty], f"{n}_nonempty_out")
    return out
