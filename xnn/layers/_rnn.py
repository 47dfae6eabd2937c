"""Shared pieces of LSTM and GRU: fields, input roles, shapes, parameters, NumPy reference.

Inputs, in order: ``x (T, F)``; then an optional padding mask ``(T,)`` (1 = valid step, a
valid prefix: right padding); then, with ``initial_state: true``, a state ``(S,)`` produced by
another recurrent node with ``output: state``.

Output (``output`` field): ``sequences`` ``(T, D*units)`` (``(T, units)`` with ``merge: sum``),
padded steps are zeros; ``last`` ``(D*units,)`` (``(units,)`` with ``merge: sum``): the final hidden state of the last layer
(forward direction at the last valid step, reverse direction at step 0); ``state`` ``(S,)``:
every layer's and direction's final state flattened in the order (layer, direction, [h, c]),
``S = num_layers * D * units`` (times 2 for LSTM). A sample with no valid step outputs zeros.
Between stacked layers the directions are concatenated (PyTorch's rule); ``merge`` applies to
the node's output only. ``dropout`` acts between layers in training.
"""
from __future__ import annotations

from typing import Annotated, ClassVar, Literal

import numpy as np
from pydantic import Field, PositiveInt

from ..spec.layer import Case, Layer, Param, ShapeError

Prob = Annotated[float, Field(ge=0, lt=1)]


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def lengths_of(mask: np.ndarray | None, n: int, t: int) -> np.ndarray:
    """Valid lengths ``(N,)`` from a right-padding mask ``(N, T)`` (all ``t`` without a mask)."""
    if mask is None:
        return np.full(n, t, dtype=np.int64)
    return np.rint(mask.sum(axis=1)).astype(np.int64)


class RNNBase(Layer):
    gates: ClassVar[int] = 4
    states: ClassVar[int] = 1  # tensors per (layer, direction) state: LSTM h, c; GRU h
    arity = (1, 3)
    doc_shapes = "(T, F) [, mask (T,)] [, state (S,)] -> (T, D*units) | (D*units,) | (S,)"

    units: PositiveInt
    """Hidden size H of each layer and direction."""
    num_layers: PositiveInt = 1
    """Stacked recurrent layers (PyTorch's num_layers); the directions are concatenated between them."""
    bidirectional: bool = False
    """Also run a reverse direction (D = 2); merge says how the node's output combines them."""
    merge: Literal["concat", "sum"] = "concat"
    """How the node's output joins the directions: concat (D·units features) or sum (units)."""
    dropout: Prob = 0.0
    """Dropout probability between stacked layers, in training (PyTorch's dropout); 0: none."""
    output: Literal["sequences", "last", "state"] = "sequences"
    """sequences (T, D·units), last (final hidden state, D·units) or state (every final state, for initial_state)."""
    initial_state: bool = False
    """Take the initial state from the last input, (S,): another recurrent node's output: state."""

    # ---------------------------------------------------------------- structure
    @property
    def dirs(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def state_size(self) -> int:
        return self.num_layers * self.dirs * self.states * self.units

    def roles(self, n_inputs: int) -> tuple[bool, bool]:
        """(has_mask, has_state) for a node with ``n_inputs`` inputs."""
        has_state = self.initial_state
        return n_inputs - 1 - int(has_state) == 1, has_state

    def mask_index(self, in_shapes: list) -> int | None:
        """Which input is the padding mask (None: no mask)."""
        return 1 if self.roles(len(in_shapes))[0] else None

    def suffixes(self) -> list[str]:
        return ["", "_reverse"][: self.dirs]

    def infer(self, in_shapes):
        x = in_shapes[0]
        if len(x) != 2:
            raise ShapeError(f"{self.kind} needs a (time, features) sequence per sample", "inputs")
        if self.dropout > 0 and self.num_layers == 1:
            raise ShapeError("dropout acts between stacked layers: it needs num_layers >= 2 (use a Dropout node)", "dropout")
        if self.initial_state and len(in_shapes) < 2:
            raise ShapeError("initial_state: true needs a state input (the last input)", "initial_state")
        n_extra = len(in_shapes) - 1 - int(self.initial_state)
        if n_extra > 1:
            raise ShapeError("inputs are x, an optional mask (T,), and a state only with initial_state: true", "inputs")
        if n_extra == 1 and tuple(in_shapes[1]) != (x[0],):
            raise ShapeError(f"the mask must have shape ({x[0]},), one value per time step", "inputs")
        if self.initial_state and tuple(in_shapes[-1]) != (self.state_size,):
            raise ShapeError(f"the initial state must have shape ({self.state_size},) as given by a {self.kind} "
                             f"with the same units/num_layers/bidirectional and output: state", "inputs")
        width = self.units * (self.dirs if self.merge == "concat" else 1)
        if self.output == "sequences":
            return (x[0], width)
        if self.output == "last":
            return (width,)
        return (self.state_size,)

    def macs(self, in_shapes, out_shape):
        t, f = in_shapes[0]
        h, g = self.units, self.gates
        per_step = sum(g * h * ((f if k == 0 else self.dirs * h) + h) for k in range(self.num_layers))
        return t * self.dirs * per_step

    def params(self, in_shapes):
        f = in_shapes[0][-1]
        h, g = self.units, self.gates
        b = 1.0 / np.sqrt(h)  # PyTorch's U(-1/sqrt(H), 1/sqrt(H)) for every recurrent parameter
        out: dict[str, Param] = {}
        for k in range(self.num_layers):
            cin = f if k == 0 else self.dirs * h
            for s in self.suffixes():
                out[f"weight_ih_l{k}{s}"] = Param((g * h, cin), "uniform", {"bound": b}, "weight")
                out[f"weight_hh_l{k}{s}"] = Param((g * h, h), "uniform", {"bound": b}, "weight")
            for s in self.suffixes():
                for bn in self.bias_names():
                    out[f"{bn}_l{k}{s}"] = Param((g * h,), "uniform", {"bound": b}, "bias")
        return out

    def check_graph(self, node, nodes: dict) -> list[str]:
        """With ``initial_state``, the state must come from a same-shaped recurrent ``output: state``."""
        if not self.initial_state:
            return []
        src = nodes.get(node.inputs[-1])
        same = src is not None and src.kind == self.kind and getattr(src.layer, "output", None) == "state" and all(
            getattr(src.layer, k) == getattr(self, k) for k in ("units", "num_layers", "bidirectional"))
        if same:
            return []
        return [f"model: node {node.name!r}: initial_state: true needs its last input to be a {self.kind} with "
                f"output: state and the same units/num_layers/bidirectional (received {node.inputs[-1]!r}, "
                f"which returns no such state)"]

    def bias_names(self) -> list[str]:
        raise NotImplementedError

    # ---------------------------------------------------------------- reference
    def cell(self, p: dict, key: str, x: np.ndarray, state: list[np.ndarray]) -> list[np.ndarray]:
        """One step for one (layer, direction) ``key`` like ``l0_reverse``; returns the new state."""
        raise NotImplementedError

    def forward(self, p, xs, training=False):
        has_mask, has_state = self.roles(len(xs))
        x = xs[0]
        n, t = x.shape[:2]
        lens = lengths_of(xs[1] if has_mask else None, n, t)
        h = self.units
        init = None
        if has_state:
            init = xs[-1].reshape(n, self.num_layers, self.dirs, self.states, h)
        inp = x
        finals = []
        outs: list[np.ndarray] = []
        for k in range(self.num_layers):
            outs = []
            for d, s in enumerate(self.suffixes()):
                state = [init[:, k, d, j] if init is not None else np.zeros((n, h), x.dtype)
                         for j in range(self.states)]
                y = np.zeros((n, t, h), dtype=x.dtype)
                steps = range(t - 1, -1, -1) if d == 1 else range(t)
                for i in steps:
                    valid = (i < lens)[:, None]
                    new = self.cell(p, f"l{k}{s}", inp[:, i], state)
                    state = [np.where(valid, a, b) for a, b in zip(new, state)]
                    y[:, i] = np.where(valid, state[0], 0.0)
                outs.append(y)
                finals.append(state)
            inp = np.concatenate(outs, axis=-1)
        nonempty = (lens > 0)[:, None]
        if self.output == "sequences":
            y = inp if self.merge == "concat" or self.dirs == 1 else outs[0] + outs[1]
            return y
        if self.output == "last":
            last = [finals[-self.dirs + d][0] for d in range(self.dirs)]
            y = np.concatenate(last, axis=-1) if self.merge == "concat" else sum(last)
            return y * nonempty
        st = np.stack([np.stack(f, axis=1) for f in finals], axis=1)  # (N, L*D, states, H)
        return st.reshape(n, -1) * nonempty

    # ---------------------------------------------------------------- cases
    @staticmethod
    def case_graph(case: Case, fields: dict) -> tuple[dict, list[dict]]:
        """Graph for a masked case: padded float input -> SequenceMask; Dense makes pads nonzero."""
        shapes = case.in_shapes
        model = [{"type": "SequenceMask", "name": "mask", "inputs": ["input"]},
                 {"type": "Dense", "units": shapes[0][-1], "name": "pre0", "inputs": ["input"]}]
        ins = ["pre0", "mask"]
        if fields.get("initial_state"):
            enc = {k: fields[k] for k in ("units", "num_layers", "bidirectional") if k in fields}
            model.append({"type": fields["type"], "name": "enc", "output": "state", "inputs": ["pre0", "mask"], **enc})
            ins.append("enc")
        model.append({**fields, "inputs": ins})
        return {"shape": list(shapes[0])}, model

    @classmethod
    def rnn_cases(cls) -> list[Case]:
        pad = "padded"
        return [
            Case({"units": 4}, [(5, 3)], "seq"),
            Case({"units": 3, "output": "last"}, [(6, 2)], "last"),
            Case({"units": 3, "bidirectional": True}, [(5, 4)], "bidir_concat"),
            Case({"units": 3, "bidirectional": True, "merge": "sum", "output": "last"}, [(5, 4)], "bidir_sum_last"),
            Case({"units": 3, "num_layers": 2, "bidirectional": True, "dropout": 0.25}, [(4, 2)], "stacked_bidir"),
            Case({"units": 4, "num_layers": 2}, [(5, 3), (5,)], "masked_stacked", input_kind=pad),
            Case({"units": 3, "bidirectional": True, "merge": "sum"}, [(6, 2), (6,)], "masked_bidir_sum",
                 input_kind=pad),
            Case({"units": 3, "bidirectional": True, "output": "last"}, [(6, 2), (6,)], "masked_bidir_last",
                 input_kind=pad),
            Case({"units": 3, "num_layers": 2, "bidirectional": True, "output": "state"}, [(5, 2), (5,)],
                 "masked_state", input_kind=pad),
            Case({"units": 3, "num_layers": 2, "initial_state": True}, [(5, 2), (5,), (0,)],
                 "initial_state", input_kind=pad),
        ]
