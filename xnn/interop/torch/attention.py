"""``nn.MultiheadAttention`` during :func:`xnn.from_torch`'s export: each module is written as one
``xnn::MultiHeadAttention`` node (custom domain ``xnn``) holding its very weights, instead of the
MatMul/Softmax/Reshape pattern the exporter would trace. The importer reads it as
``XnnMultiHeadAttention`` (:func:`for_importer` renames it in the in-memory model; the handler is
``xnn/interop/onnx/importer/ops/xnn_custom.py``).

The node (batch-first, whatever the module's ``batch_first``: Transposes around it make the
module's layout):

- inputs ``query (N, Tq, Eq)``, ``key_value (N, Tk, Ekv)`` (the query's own name for
  self-attention), ``q_weight (H*dk, Eq)``, ``k_weight (H*dk, Ekv)``, ``v_weight (H*dv, Ekv)``,
  ``out_weight (Eo, H*dv)`` (Dense layout ``(out, in)``: torch's ``in_proj_weight`` split into its three
  row blocks, or ``q/k/v_proj_weight``), then optionally ``q_bias, k_bias, v_bias, out_bias``;
- attributes ``num_heads`` (int), ``causal`` (0/1: the module was given a causal ``attn_mask``),
  ``dropout`` (the attention-weight dropout rate);
- outputs: the attended values and the attention weights ``(N, H, Tq, Tk)`` (an import refuses
  the weights if the graph uses them).

What does not import is recorded (one line per module) and the module's own forward runs, so the
export continues and every refusal is listed at once: ``key_padding_mask``, an ``attn_mask`` that is
not the causal mask, ``add_bias_kv``, ``add_zero_attn``, and key and value that are different tensors.
"""
from __future__ import annotations

DOMAIN = "xnn"
OP = "MultiHeadAttention"
IMPORTED_AS = "Xnn" + OP  # the op type the importer registers (its driver reads the default domain only)


class _Attention:
    fn = None

    @classmethod
    def get(cls):
        if cls.fn is None:
            import torch
            from torch.nn import functional as F

            class XnnAttention(torch.autograd.Function):
                @staticmethod
                def forward(ctx, q, kv, qw, kw, vw, ow, qb, kb, vb, ob, heads, causal, dropout):
                    # values for the tracer (the exported node is what is imported)
                    n, tq, tk = q.shape[0], q.shape[1], kv.shape[1]

                    def proj(x, w, b, t):
                        return F.linear(x, w, b).reshape(n, t, heads, -1).transpose(1, 2)

                    qh, kh, vh = proj(q, qw, qb, tq), proj(kv, kw, kb, tk), proj(kv, vw, vb, tk)
                    s = qh @ kh.transpose(-1, -2) / float(qh.shape[-1]) ** 0.5
                    if causal:
                        s = s.masked_fill(torch.ones(tq, tk, dtype=torch.bool).triu(1), float("-inf"))
                    w = s.softmax(-1)
                    y = (w @ vh).transpose(1, 2).reshape(n, tq, -1)
                    return F.linear(y, ow, ob), w

                @staticmethod
                def symbolic(g, q, kv, qw, kw, vw, ow, qb, kb, vb, ob, heads, causal, dropout):
                    ins = [q, kv, qw, kw, vw, ow] + ([qb, kb, vb, ob] if qb is not None else [])
                    y, w = g.op(f"{DOMAIN}::{OP}", *ins, num_heads_i=int(heads), causal_i=int(bool(causal)),
                                dropout_f=float(dropout), outputs=2)
                    try:  # shapes for the exporter's inference (it warns without them)
                        (n, tq, _), tk = q.type().varyingSizes(), kv.type().varyingSizes()[1]
                        y.setType(q.type().with_sizes([n, tq, ow.type().varyingSizes()[0]]))
                        w.setType(q.type().with_sizes([n, int(heads), tq, tk]))
                    except (RuntimeError, TypeError, ValueError, AttributeError):
                        pass
                    return y, w

            cls.fn = XnnAttention
        return cls.fn


def patch(root, problems: list[str]) -> dict:
    """Give every ``nn.MultiheadAttention`` under ``root`` the exporting forward; returns them by
    path (:func:`unpatch` restores them)."""
    import torch

    mods = {n: m for n, m in root.named_modules() if type(m) is torch.nn.MultiheadAttention}
    fn = _Attention.get()
    for name, m in mods.items():
        m.forward = _forward(m, name or "(the model)", fn, problems)
    return mods


def unpatch(mods: dict) -> None:
    for m in mods.values():
        m.__dict__.pop("forward", None)


def _is_causal_mask(mask, tq: int, tk: int) -> bool:
    """True when ``attn_mask`` (2-D bool, True = masked, or float, -inf = masked) is the causal mask."""
    import torch

    if mask.dim() != 2 or tuple(mask.shape) != (tq, tk) or tq != tk:
        return False
    upper = torch.ones(tq, tk, dtype=torch.bool).triu(1)
    if mask.dtype == torch.bool:
        return bool(torch.equal(mask, upper))
    m = mask.detach()
    return bool(torch.all(m[upper] == float("-inf")) and torch.all(m[~upper] == 0))


def _forward(m, name: str, fn, problems: list[str]):
    where = f"module {name!r} (MultiheadAttention)"

    def forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        bf = m.batch_first
        tq, tk = query.shape[1 if bf else 0], key.shape[1 if bf else 0]
        causal = attn_mask is not None and _is_causal_mask(attn_mask, tq, tk)
        why = []
        if key_padding_mask is not None:
            why.append("key_padding_mask is not imported (an xnn MultiHeadAttention reads its mask as a "
                       "model tensor, 1 = attend)")
        if attn_mask is not None and not causal:
            why.append("an attn_mask other than the causal mask (triu(1) masked) is not imported")
        if is_causal and not causal:
            why.append("is_causal=True without the causal attn_mask it stands for is not imported")
        if m.bias_k is not None or m.bias_v is not None:
            why.append("add_bias_kv=True has no xnn equivalent")
        if m.add_zero_attn:
            why.append("add_zero_attn=True has no xnn equivalent")
        if (m.in_proj_bias is None) != (m.out_proj.bias is None):
            why.append("a bias on only one of the in/out projections has no xnn equivalent")
        if key is not value:
            why.append("key and value are different tensors; xnn's MultiHeadAttention takes one key/value input")
        if query.dim() != 3:
            why.append(f"an unbatched query (rank {query.dim()}) is not imported")
        if why:
            problems.extend(f"{where}: {w}" for w in why)
            return type(m).forward(m, query, key, value, key_padding_mask=key_padding_mask,
                                   need_weights=need_weights, attn_mask=attn_mask,
                                   average_attn_weights=average_attn_weights, is_causal=is_causal)
        q, kv = (query, key) if bf else (query.transpose(0, 1), key.transpose(0, 1))
        if m._qkv_same_embed_dim:
            qw, kw, vw = m.in_proj_weight.chunk(3)
        else:
            qw, kw, vw = m.q_proj_weight, m.k_proj_weight, m.v_proj_weight
        qb, kb, vb = m.in_proj_bias.chunk(3) if m.in_proj_bias is not None else (None, None, None)
        y, w = fn.apply(q, kv, qw, kw, vw, m.out_proj.weight, qb, kb, vb, m.out_proj.bias, m.num_heads, causal, float(m.dropout))
        if not bf:
            y = y.transpose(0, 1)
        if not need_weights:
            return y, None
        return y, (w.mean(1) if average_attn_weights else w)

    return forward


def for_importer(model) -> None:
    """The exported model as xnn's ONNX importer reads it: each ``xnn::<Op>`` node becomes
    ``Xnn<Op>`` in the default domain (the importer's driver refuses other domains)."""
    for node in model.graph.node:
        if node.domain == DOMAIN:
            node.domain = ""
            node.op_type = "Xnn" + node.op_type
            parts = node.name.rsplit("/", 1)
            if len(parts) == 2 and parts[1].split("_")[0] == OP:
                node.name = f"{parts[0]}/{IMPORTED_AS}"  # name_hint then names the layer after the module
