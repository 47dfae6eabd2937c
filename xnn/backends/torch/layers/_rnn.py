"""Shared torch lowering of LSTM/GRU: the native fused ``nn.LSTM``/``nn.GRU`` (batch-first),
variable lengths through ``pack_padded_sequence`` (never a Python loop over time steps)."""
from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


def rnn_forward(mod: nn.Module, native_forward, x: torch.Tensor, extra: tuple) -> torch.Tensor:
    """Run ``native_forward(input, hx)`` of an ``nn.LSTM``/``nn.GRU`` subclass ``mod`` per xnn's
    RNN contract (``xnn/layers/_rnn.py``): x ``(N, T, F)``, optional mask ``(N, T)``, optional
    flattened initial state ``(N, S)``; returns sequences ``(N, T, *)``, last or state ``(N, *)``."""
    L = mod.xnn_layer
    has_mask, has_state = L.roles(1 + len(extra))
    n, t = x.shape[:2]
    dirs, nl, h, k = L.dirs, L.num_layers, L.units, L.states
    hx = None
    if has_state:
        s = extra[-1].reshape(n, nl * dirs, k, h).permute(2, 1, 0, 3).contiguous()  # (k, L*D, N, H)
        hx = (s[0], s[1]) if k == 2 else s[0]
    nonempty = None
    if has_mask:
        # pack_padded_sequence needs CPU lengths anyway, so the checks below cost no extra sync
        lengths = extra[0].sum(dim=1).round().long().cpu()
        if bool((lengths == 0).any()):
            nonempty = (lengths > 0).to(device=x.device, dtype=x.dtype)[:, None]
        # torch refuses empty sequences: run them with one step and zero their outputs below
        packed = pack_padded_sequence(x, lengths.clamp(min=1), batch_first=True, enforce_sorted=False)
        out, hn = native_forward(packed, hx)
        if L.output == "sequences":  # last/state come from hn: skip unpacking the outputs
            out, _ = pad_packed_sequence(out, batch_first=True, total_length=t)
            if nonempty is not None:
                out = out * nonempty[:, :, None]
    else:
        out, hn = native_forward(x, hx)
    hs = hn if k == 1 else hn[0]  # (L*D, N, H)
    if L.output == "sequences":
        if L.merge == "sum" and dirs == 2:
            out = out[..., :h] + out[..., h:]
        return out
    if L.output == "last":
        if dirs == 1:
            y = hs[-1]  # a contiguous view: no permute/copy on the common path
        else:
            last = hs[-dirs:]
            y = last.permute(1, 0, 2).reshape(n, dirs * h) if L.merge == "concat" else last.sum(dim=0)
    else:
        st = torch.stack(hn, dim=0) if k == 2 else hs[None]  # (k, L*D, N, H)
        y = st.permute(2, 1, 0, 3).reshape(n, -1)
    return y * nonempty if nonempty is not None else y
