"""Keras's implicit masks as explicit xnn tensors, for :mod:`.graph`.

Keras attaches a boolean mask to a tensor (``Embedding(mask_zero=True)``: ids != 0;
``Masking(mask_value=v)``: some feature != v) and hands it on from layer to layer; xnn has no
hidden state: the mask is a ``SequenceMask`` node that the layers which use it take as an input.
The walk keeps, per Keras layer output, the xnn node of its mask (or none) and whether the values
at its masked steps may differ from Keras's (see :class:`MaskState`).

What each layer does with an incoming mask is Keras 3's (``supports_masking``, ``compute_mask``,
a ``mask`` argument of ``call``):

- per-step layers pass it on (Dense, activations, Dropout, SpatialDropout1D, LayerNormalization);
  GroupNormalization passes it on but reads every step (its statistics span time);
- LSTM / GRU / Bidirectional take it as their mask input; GlobalAveragePooling1D becomes
  MaskedGlobalAvgPool1D; MultiHeadAttention takes the value's mask as its key mask;
- Add / Multiply / Subtract / Concatenate (feature axis) pass on the OR of their inputs' masks
  (Keras 3): imported when every input carries the same mask; an unmasked input gives no mask;
- every other layer drops it (Keras warns and "destroys the mask"), and so does Keras's
  GlobalMaxPooling1D, which has no mask argument: its max runs over every step.

Refused, by name: BatchNormalization (in training Keras's moments skip masked steps), Softmax
(Keras's Softmax layer applies the sequence mask to its own axis), Concatenate along time, merges
of different masks, Masking of an already-masked tensor, a ``mask=`` argument that is not the
mask Keras's layers pass on, LSTM/GRU with ``zero_output_for_mask=True`` and
``return_sequences=False`` (Keras zeros a padded sample's last output).

Exact for right-padded sequences only: Keras masks every step whose id is 0 (Masking: every step
whose features all equal ``mask_value``), also inside a sequence; xnn's SequenceMask is a valid
prefix (1 up to the last non-pad step), so an interior pad step counts as valid in xnn.

Masked steps whose values differ: Keras's LSTM/GRU with ``return_sequences=True`` (and
``zero_output_for_mask=False``, the default) repeats the last valid output at masked steps, xnn's
outputs zeros ("carry"); MultiHeadAttention with a masked query lets a masked query row attend
every key uniformly, xnn's row attends the valid keys ("other"). Such values may flow through
per-step layers and reach any layer that skips masked steps (an LSTM/GRU with the mask, a masked
average pooling); the max pooling of a "carry" sequence is the masked max (the repeated value is a
valid step's); a layer that reads every step of them, or the model's output, is refused.

A SequenceMask node is added when a layer first takes the mask (a mask Keras drops unused leaves
no node). Sequential configs hold no mask computations (Keras re-derives them when it runs);
functional configs record the masks handed to layers whose ``call`` takes one as op layers
(:func:`mask_arguments`), which are checked against the mask tracked here.
"""
from __future__ import annotations

from .layers import channels_last, converts, expect

PER_STEP = {"Dense", "Activation", "ReLU", "LeakyReLU", "ELU", "Dropout", "SpatialDropout1D",
            "LayerNormalization"}
PASS_MIXING = {"GroupNormalization"}  # Keras passes the mask on; the layer reads every step
MERGES = {"Add", "Multiply", "Subtract", "Concatenate"}


def _why(cls: str) -> str:
    if cls == "MultiHeadAttention":
        return ("Keras's MultiHeadAttention lets a masked query step attend every key uniformly, xnn's "
                "attends the valid keys")
    return (f"Keras's {cls} with return_sequences=True repeats the last valid output at the masked steps "
            f"(zero_output_for_mask=False), xnn's outputs zeros there")


class MaskState:
    """Per Keras layer output: ``mask`` the xnn node of its Keras mask (absent: none); ``dirty``
    ``(kind, origin, origin_class)`` when its values at masked steps differ from Keras's: kind
    "carry" (Keras repeats the last valid step's value there) or "other"; origin the Keras layer
    whose output first differed. Invariant: a dirty tensor has a mask."""

    def __init__(self, recorded: dict | None = None):
        self.mask: dict[str, str] = {}
        self.dirty: dict[str, tuple[str, str, str]] = {}
        self.key: dict[str, tuple] = {}  # xnn mask node -> what Keras computes it from (see mask_arguments)
        self.by_key: dict[tuple, str] = {}
        self.recorded = recorded or {}  # keras layer -> its recorded mask= argument (an expression; None: unknown)
        self.pending: dict[str, tuple] = {}  # placeholder -> (fields, source, hint) of a SequenceMask not yet used
        self.made: dict[str, str] = {}

    def use(self, b, m: str) -> str:
        """The SequenceMask node of mask ``m``, added when a layer first takes it (a mask nothing takes
        would be an unused node)."""
        if m not in self.pending:
            return m
        if m not in self.made:
            fields, src, hint = self.pending[m]
            self.made[m] = b.add(fields, [src], hint=hint)
        return self.made[m]

    def set(self, name: str, mask: str | None, dirty=None) -> None:
        if mask is not None:
            self.mask[name] = mask
        if dirty is not None:
            self.dirty[name] = dirty

    @staticmethod
    def refusal(d: tuple, what: str) -> str:
        kind, origin, cls = d
        fix = "; or set zero_output_for_mask=True on it" if cls != "MultiHeadAttention" else ""
        pools = "GlobalAveragePooling1D, GlobalMaxPooling1D" if kind == "carry" else "GlobalAveragePooling1D"
        return (f"{what} every time step of {origin!r}'s output, whose masked steps differ in xnn: {_why(cls)}; "
                f"such values can only feed layers that skip masked steps (LSTM/GRU, {pools}){fix}")

    def output_problem(self, name: str, cls: str) -> str | None:
        """The refusal when the model's output is a tensor whose masked steps differ."""
        d = self.dirty.get(name)
        if d is None:
            return None
        return f"Keras layer {name!r} ({cls}): " + self.refusal(d, "the model's output holds")


def _mask_node(b, lay, st: MaskState, src: str, key: tuple, pad) -> str:
    """The SequenceMask node of ``key`` (one per distinct Keras mask)."""
    if key in st.by_key:
        return st.by_key[key]
    m = f"\0mask:{len(st.pending)}"
    st.pending[m] = ({"type": "SequenceMask", **({"pad_value": float(pad)} if pad != 0 else {})}, src,
                     f"{lay.xname}_mask")
    st.key[m], st.by_key[key] = key, m
    return m


def convert(b, lay, xs: list[str], ins: list[str], fn, st: MaskState) -> str:
    """Run converter ``fn`` on Keras layer ``lay`` (xnn inputs ``xs``, from the Keras layers ``ins``),
    giving mask-consuming layers their explicit mask and recording the output's mask in ``st``."""
    ms = [st.mask.get(n) for n in ins]
    ds = [st.dirty.get(n) for n in ins]
    cls = lay.cls
    if lay.name in st.recorded:  # a functional model's mask= argument: Keras's own mask of the input
        rec = st.recorded[lay.name]
        if rec is None:
            lay.fail("takes a mask computed by Keras ops xnn does not follow (xnn imports the masks of "
                     "Embedding(mask_zero=True) and Masking as Keras's layers pass them on)")
        if not ins or st.key.get(ms[0]) != rec:
            lay.fail("is called with a mask= argument that is not the Keras mask of its input; xnn imports "
                     "the masks Keras's layers pass on")
    special = _SPECIAL.get(cls)
    if special is not None:
        return special(b, lay, xs, ins, fn, st, ms, ds)
    if all(m is None for m in ms):
        return fn(b, lay, xs)
    if cls in PER_STEP:
        d = ds[0]
        if d is not None and d[0] == "carry" and cls == "Dropout":  # per-element noise in training
            d = ("other", *d[1:])
        y = fn(b, lay, xs)
        st.set(lay.name, ms[0], d)
        return y
    if cls == "BatchNormalization":
        lay.fail("takes a Keras mask: in training Keras's batch moments skip the masked steps, xnn's "
                 "BatchNorm counts every step")
    if cls == "Softmax":
        lay.fail("takes a Keras mask: Keras's Softmax layer applies the sequence mask along its own axis "
                 "(masked entries become -1e9); xnn's softmax takes no mask")
    for d in ds:
        if d is not None:
            lay.fail(st.refusal(d, "reads"))
    y = fn(b, lay, xs)
    if cls in PASS_MIXING:
        st.set(lay.name, ms[0])
    return y  # any other layer: Keras drops the mask, and so does xnn


# ------------------------------------------------------------------------------ producers
def _embedding(b, lay, xs, ins, fn, st, ms, ds):
    y = fn(b, lay, xs)
    if lay.get("mask_zero", False):
        st.set(lay.name, _mask_node(b, lay, st, xs[0], ("ne", ins[0], 0.0), 0))
    return y


@converts("Masking")
def masking_layer(b, lay, xs):
    """Registered so the walk finds Masking; :func:`convert` builds it (:func:`_masking`)."""
    return _masking(b, lay, xs, [], None, MaskState(), [None], [None])


def _masking(b, lay, xs, ins, fn, st, ms, ds):
    """Keras: mask = any(x != v) over the features, output = x where the mask holds, 0 elsewhere.
    For right padding the output is x (``v = 0``) or x times the mask (any other ``v``)."""
    if ms[0] is not None:
        lay.fail("masks a tensor that already carries a Keras mask; xnn imports one mask per sequence")
    v = lay.get("mask_value", 0.0)
    if not isinstance(v, (int, float)) or isinstance(v, bool):
        lay.fail(f"mask_value={v!r}: expected a number")
    m = _mask_node(b, lay, st, xs[0], ("feat", ins[0] if ins else "", float(v)), v)
    if v == 0:
        y = xs[0]
    else:
        col = b.add({"type": "Reshape", "target_shape": [-1, 1]}, [st.use(b, m)], hint=f"{lay.xname}_mask_col")
        y = b.add({"type": "Multiply"}, [xs[0], col], name=lay.xname)
    st.set(lay.name, m)
    return y


# ------------------------------------------------------------------------------ consumers
def _rnn(b, lay, xs, ins, fn, st, ms, ds):
    m = ms[0]
    if m is None:
        return fn(b, lay, xs)
    if lay.cls == "Bidirectional":  # Keras sets zero_output_for_mask = return_sequences on both halves
        inner = lay.get("layer")
        inner = inner if isinstance(inner, dict) else {}
        cls = str(inner.get("class_name", "RNN"))
        seqs = bool((inner.get("config") or {}).get("return_sequences", False))
        zero = seqs
    else:
        cls = lay.cls
        seqs = bool(lay.get("return_sequences", False))
        zero = bool(lay.get("zero_output_for_mask", False))
        if zero and not seqs:
            lay.fail("zero_output_for_mask=True with return_sequences=False and a Keras mask: Keras zeros the "
                     "output of every sample whose last step is masked, xnn's is the last valid step's state")
    y = fn(b, lay, [*xs, st.use(b, m)])
    if seqs:
        st.set(lay.name, m, None if zero else ("carry", lay.name, cls))
    return y


def _global_avg(b, lay, xs, ins, fn, st, ms, ds):
    m = ms[0]
    if m is None or not lay.cls.endswith("1D"):
        return _generic_drop(b, lay, xs, fn, st, ms, ds)
    channels_last(lay)
    expect(lay, keepdims=False)
    return b.add({"type": "MaskedGlobalAvgPool1D"}, [xs[0], st.use(b, m)], name=lay.xname)


def _global_max(b, lay, xs, ins, fn, st, ms, ds):
    """Keras's GlobalMaxPooling1D ignores the mask: the max over every step (xnn's GlobalMaxPool1D);
    over a "carry" sequence that is the max over the valid steps (MaskedGlobalMaxPool1D)."""
    m, d = ms[0], ds[0]
    if m is None or d is None or d[0] != "carry" or not lay.cls.endswith("1D"):
        return _generic_drop(b, lay, xs, fn, st, ms, ds)
    channels_last(lay)
    expect(lay, keepdims=False)
    return b.add({"type": "MaskedGlobalMaxPool1D"}, [xs[0], st.use(b, m)], name=lay.xname)


def _generic_drop(b, lay, xs, fn, st, ms, ds):
    for d in ds:
        if d is not None:
            lay.fail(st.refusal(d, "reads"))
    return fn(b, lay, xs)


def _attention(b, lay, xs, ins, fn, st, ms, ds):
    """Keras's MultiHeadAttention: attention mask = query mask (rows) & value mask (keys) [& causal].
    The value's mask is xnn's key mask (exact for every valid query row); a masked query's row is
    Keras's uniform average over the keys, so the output's masked steps differ ("other")."""
    args, kw = lay._arg_refs, lay._kwargs
    q = kw.get("query") if isinstance(kw.get("query"), str) else (args[0] if args else None)
    v = kw.get("value") if isinstance(kw.get("value"), str) else (args[1] if len(args) > 1 else None)
    mq, mv = st.mask.get(q or ""), st.mask.get(v or "")
    lay.key_mask = None if mv is None else st.use(b, mv)
    y = fn(b, lay, xs)
    if mq is not None:
        st.set(lay.name, mq, ("other", lay.name, lay.cls))
    return y


def _merge(b, lay, xs, ins, fn, st, ms, ds):
    """Keras 3's merges pass on the OR of their inputs' masks: Add/Multiply/Subtract none when an
    input has none, Concatenate an all-valid mask for it (so, either way, no xnn mask)."""
    if all(m is None for m in ms):
        return fn(b, lay, xs)
    if lay.cls == "Concatenate":
        ax = lay.get("axis", -1)
        s = lay.input_shape()
        rank = len(s[0]) if isinstance(s, list) and s and isinstance(s[0], list) else None
        if not (ax == -1 or (rank is not None and ax == rank - 1)):
            lay.fail(f"concatenates masked sequences along axis {ax}: the joined Keras mask is no valid prefix "
                     f"(xnn's masks are right padding)")
    keys = {st.key.get(m) for m in ms}
    if None in keys:
        for d in ds:
            if d is not None:
                lay.fail(st.refusal(d, "joins an unmasked input and so reads"))
        return fn(b, lay, xs)
    if len(keys) > 1:
        lay.fail("joins inputs with different Keras masks (Keras passes on their OR); xnn imports one mask per "
                 "sequence")
    dirty = [d for d in ds if d is not None]
    out_d = None
    if dirty:  # still "carry" only when every input repeats its last valid step
        out_d = dirty[0] if len(dirty) == len(ds) and all(d[0] == "carry" for d in dirty) else ("other", *dirty[0][1:])
    y = fn(b, lay, xs)
    st.set(lay.name, ms[0], out_d)
    return y


# ------------------------------------------------------------------------------ functional configs
_OP_MODULES = ("keras.src.ops.numpy", "keras.src.ops.core", "keras.src.ops.math")
MASK_OPS = {"NotEqual", "Any", "LogicalOr", "ExpandDims", "ZerosLike", "OnesLike", "Concatenate"}


def _ref(o):
    if isinstance(o, dict) and o.get("class_name") == "__keras_tensor__":
        h = (o.get("config") or {}).get("keras_history")
        if isinstance(h, list) and h and isinstance(h[0], str):
            return h[0]
    return None


def _refs(o) -> list[str]:
    if isinstance(o, dict):
        r = _ref(o)
        return [r] if r is not None else [x for v in o.values() for x in _refs(v)]
    if isinstance(o, list):
        return [x for v in o for x in _refs(v)]
    return []


def _eval(cls: str, cfg: dict, args: list, val) -> tuple | None:
    """What one of Keras's mask ops computes, over the masks Keras's layers make: ``("ne", x, c)``
    ``x != c`` (Embedding: c = 0), ``("feat", x, v)`` any feature of ``x`` != v (Masking),
    ``("exp", m)`` a mask broadcast over the features (Concatenate's), ``("cat", parts)``."""
    def arg(i):
        a = args[i] if i < len(args) else None
        r = _ref(a)
        return val.get(r) if r is not None else a

    def axis_last(k="axis"):
        return cfg.get(k, -1) == -1

    if cls == "NotEqual":
        x, c = _ref(args[0]) if args else None, args[1] if len(args) > 1 else None
        if x is not None and x not in val and isinstance(c, (int, float)) and not isinstance(c, bool):
            return ("ne", x, float(c))
        return None
    a = arg(0)
    if cls == "Any" and axis_last() and not cfg.get("keepdims", False):
        if isinstance(a, tuple) and a[0] == "ne":
            return ("feat", a[1], a[2])
        if isinstance(a, tuple) and a[0] == "cat" and len({p for p in a[1]}) == 1 and a[1][0][0] == "exp":
            return a[1][0][1]
        return None
    if cls == "ExpandDims" and axis_last() and isinstance(a, tuple) and a[0] in ("ne", "feat"):
        return ("exp", a)
    if cls == "ZerosLike" and _ref(args[0] if args else None) is not None:
        return ("zeros",)
    if cls == "LogicalOr":
        b = arg(1)
        if a == b:
            return a
        if isinstance(a, tuple) and isinstance(b, tuple) and ("zeros",) in (a, b):
            return b if a == ("zeros",) else a
        return None
    if cls == "Concatenate" and axis_last() and isinstance(a, list):
        parts = [val.get(_ref(p)) for p in a]
        return ("cat", tuple(parts)) if all(isinstance(p, tuple) and p[0] == "exp" for p in parts) else None
    return None


def mask_arguments(model: dict) -> tuple[dict, dict]:
    """A functional config records the masks Keras hands to layers whose ``call`` takes one (LSTM,
    GRU, Bidirectional, GlobalAveragePooling1D, ...) as ``mask=`` arguments computed by op layers
    (``not_equal``, ``any``, ``logical_or``, ...). Returns the config without those op layers and
    arguments (so the walk sees Keras layers only) and, per layer, what its mask argument computes
    (None: ops xnn does not follow); the walk checks it is the mask it tracked. Op layers used for
    anything else stay (and are refused as before)."""
    cfg = model.get("config")
    entries = cfg.get("layers") if isinstance(cfg, dict) else None
    if model.get("class_name") not in ("Functional", "Model") or not isinstance(entries, list):
        return model, {}

    def name(e: dict) -> str:
        return str((e.get("config") or {}).get("name") or e.get("name") or "")

    ops = {name(e): e for e in entries if isinstance(e, dict) and e.get("module") in _OP_MODULES
           and e.get("class_name") in MASK_OPS}
    if not ops:
        return model, {}
    uses: dict[str, list[tuple[str, bool]]] = {n: [] for n in ops}  # op -> (consumer, as a mask= argument)
    for e in entries:
        if not isinstance(e, dict):
            continue
        for call in e.get("inbound_nodes") or []:
            if not isinstance(call, dict):
                continue
            kw = call.get("kwargs") if isinstance(call.get("kwargs"), dict) else {}
            masked = set(_refs(kw.get("mask"))) if name(e) not in ops else set()
            for r in _refs([call.get("args"), kw]):
                if r in uses:
                    uses[r].append((name(e), r in masked))
    mask_ops = set(ops)
    changed = True
    while changed:  # an op is a mask op when every use is a mask= argument or another mask op
        changed = False
        for n in list(mask_ops):
            if any(not as_mask and c not in mask_ops for c, as_mask in uses[n]):
                mask_ops.discard(n)
                changed = True
    val: dict[str, tuple | None] = {}
    for e in entries:  # the config's order is topological
        n = name(e) if isinstance(e, dict) else ""
        if n in mask_ops:
            call = (e.get("inbound_nodes") or [{}])[0]
            call = call if isinstance(call, dict) else {}
            args = call.get("args") if isinstance(call.get("args"), list) else []
            v = _eval(str(e.get("class_name")), e.get("config") or {}, args, val)
            val[n] = v
    recorded: dict[str, tuple | None] = {}
    out = []
    for e in entries:
        n = name(e) if isinstance(e, dict) else ""
        if n in mask_ops:
            continue
        if isinstance(e, dict) and isinstance(e.get("inbound_nodes"), list):
            nodes = []
            for call in e["inbound_nodes"]:
                kw = call.get("kwargs") if isinstance(call, dict) and isinstance(call.get("kwargs"), dict) else None
                r = _ref(kw.get("mask")) if kw else None
                if r in mask_ops:
                    recorded[n] = val.get(r)
                    call = {**call, "kwargs": {k: v for k, v in kw.items() if k != "mask"}}
                nodes.append(call)
            e = {**e, "inbound_nodes": nodes}
        out.append(e)
    return {**model, "config": {**cfg, "layers": out}}, recorded


_SPECIAL = {"Embedding": _embedding, "Masking": _masking, "LSTM": _rnn, "GRU": _rnn, "Bidirectional": _rnn,
            "GlobalAveragePooling1D": _global_avg, "GlobalAvgPool1D": _global_avg,
            "GlobalMaxPooling1D": _global_max, "GlobalMaxPool1D": _global_max,
            "MultiHeadAttention": _attention, **{c: _merge for c in MERGES}}
