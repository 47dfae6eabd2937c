"""TransformerEncoderBlock: a composite expanded into registry layers when the graph resolves.

Shapes: ``x (T, E)`` [+ key padding mask ``(T,)``] -> ``(T, E)``. It has no parameters of its
own and never reaches a backend: ``expand`` replaces it by ordinary nodes named
``<block>_<part>``, and the last of them is named ``<block>`` so later nodes can use it.

pre-norm:  ``h = x + Drop(MHA(LN1(x)))``;  ``y = h + Drop(fc2(act(fc1(LN2(h)))))``
post-norm: ``h = LN1(x + Drop(MHA(x)))``;  ``y = LN2(h + Drop(fc2(act(fc1(h)))))``
Parts, in order: ``ln1, attn, drop1, add1, ln2, fc1, act, fc2, drop2`` and the final Add
(pre-norm) or final LayerNorm (post-norm), which takes the block's own name (``drop*`` only when
``dropout > 0``). MHA gets ``num_heads``, ``key_dim``, ``causal``, ``attention_dropout``.
"""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, PositiveFloat, PositiveInt

from ..spec.layer import Case, Layer, ShapeError
from ..spec.registry import register, resolve_type

Prob = Annotated[float, Field(ge=0, lt=1)]


@register
class TransformerEncoderBlock(Layer):
    kind = "TransformerEncoderBlock"
    type: Literal["TransformerEncoderBlock"] = "TransformerEncoderBlock"
    arity = (1, 2)
    doc_shapes = "(T, E) [, mask (T,)] -> (T, E)"

    num_heads: PositiveInt
    """Attention heads."""
    mlp_dim: PositiveInt
    """Hidden width of the MLP (fc1)."""
    key_dim: PositiveInt | None = None
    """Query/key width per head; default: E / num_heads."""
    norm: Literal["pre", "post"] = "pre"
    """pre (LayerNorm before attention and MLP) or post (LayerNorm after each residual add)."""
    activation: Literal["gelu", "gelu_tanh", "relu"] = "gelu"
    """MLP activation: gelu (exact, erf), gelu_tanh or relu."""
    dropout: Prob = 0.0
    """Dropout probability after the attention and after the MLP, in training; 0: none."""
    attention_dropout: Prob = 0.0
    """Dropout probability on the attention weights, in training."""
    causal: bool = False
    """Each step attends only to itself and earlier steps."""
    eps: PositiveFloat = 1e-5
    """LayerNorm eps, added to the variance (PyTorch's default 1e-5; Keras's is 1e-3)."""

    def infer(self, in_shapes):
        x = in_shapes[0]
        if len(x) != 2:
            raise ShapeError("TransformerEncoderBlock needs a (time, features) sequence per sample", "inputs")
        if len(in_shapes) == 2 and tuple(in_shapes[1]) != (x[0],):
            raise ShapeError(f"the mask must have shape ({x[0]},), one value per time step", "inputs")
        return x

    def expand(self, inputs: list[str], in_shapes: list[tuple[int, ...]]) -> list[Layer]:
        """The registry layers this block stands for, wired by name; the last one is ``self.name``."""
        b, width = self.name, in_shapes[0][-1]
        x, mask = inputs[0], inputs[1:]
        nodes: list[dict] = []

        def add(part: str, type_: str, ins: list[str], **fields) -> str:
            name = b if part == "out" else f"{b}_{part}"
            nodes.append({"type": type_, "name": name, "inputs": ins, "trainable": self.trainable, **fields})
            return name

        def drop(part: str, h: str) -> str:
            return add(part, "Dropout", [h], rate=self.dropout) if self.dropout > 0 else h

        mha = dict(num_heads=self.num_heads, key_dim=self.key_dim, causal=self.causal, dropout=self.attention_dropout)
        if self.norm == "pre":
            a = add("attn", "MultiHeadAttention", [add("ln1", "LayerNorm", [x], eps=self.eps), *mask], **mha)
            h = add("add1", "Add", [x, drop("drop1", a)])
            f = add("fc1", "Dense", [add("ln2", "LayerNorm", [h], eps=self.eps)], units=self.mlp_dim)
            f = add("fc2", "Dense", [add("act", "Activation", [f], fn=self.activation)], units=width)
            add("out", "Add", [h, drop("drop2", f)])
        else:
            a = add("attn", "MultiHeadAttention", [x, *mask], **mha)
            h = add("ln1", "LayerNorm", [add("add1", "Add", [x, drop("drop1", a)])], eps=self.eps)
            f = add("fc1", "Dense", [h], units=self.mlp_dim)
            f = add("fc2", "Dense", [add("act", "Activation", [f], fn=self.activation)], units=width)
            add("out", "LayerNorm", [add("add2", "Add", [h, drop("drop2", f)])], eps=self.eps)
        return [resolve_type(d["type"])[0].model_validate(d) for d in nodes]

    @staticmethod
    def case_graph(case: Case, fields: dict) -> tuple[dict, list[dict]]:
        """Masked case: padded input -> SequenceMask; a Dense makes padded steps nonzero."""
        t, e = case.in_shapes[0]
        return {"shape": [t, 3]}, [{"type": "SequenceMask", "name": "mask", "inputs": ["input"]},
                                   {"type": "Dense", "units": e, "name": "pre0", "inputs": ["input"]},
                                   {**fields, "inputs": ["pre0", "mask"]}]

    @classmethod
    def cases(cls):
        return [Case({"num_heads": 2, "mlp_dim": 8}, [(5, 4)], "pre"),
                Case({"num_heads": 2, "mlp_dim": 6, "norm": "post", "causal": True, "dropout": 0.1}, [(5, 4)],
                     "post_causal"),
                Case({"num_heads": 2, "mlp_dim": 8}, [(6, 4), (6,)], "pre_masked", input_kind="padded")]
