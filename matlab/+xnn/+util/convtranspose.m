function Y = convtranspose(X, W, b, s, d, G, crops)
%XNN.UTIL.CONVTRANSPOSE  Grouped 2-D transposed convolution on internal N x H x W x C data.
%   W: kh x kw x Fg x C (transposedConv2dLayer's h x w x NumFilters x NumChannels when G = 1);
%   b: [] or F values; s, d: 1 x 2 stride, dilation; G: groups; crops: 2 x 2 [lo hi] cut from
%   the full output per axis (hi < 0: -hi cells of zeros appended), before the bias.
[N, H, Wd, C] = size(X);
kh = size(W, 1); kw = size(W, 2); Fg = size(W, 3); Cg = C / G;
Hf = (H - 1) * s(1) + d(1) * (kh - 1) + 1;
Wf = (Wd - 1) * s(2) + d(2) * (kw - 1) + 1;
Yf = zeros(N, Hf, Wf, Fg * G);
for g = 1:G
  ci = (g - 1) * Cg + (1:Cg);
  fo = (g - 1) * Fg + (1:Fg);
  Xg = reshape(X(:, :, :, ci), N * H * Wd, Cg);
  for i = 1:kh
    rows = (i - 1) * d(1) + 1 + (0:H - 1) * s(1);
    for j = 1:kw
      cols = (j - 1) * d(2) + 1 + (0:Wd - 1) * s(2);
      Wij = reshape(W(i, j, :, ci), Fg, Cg);
      Yf(:, rows, cols, fo) = Yf(:, rows, cols, fo) + reshape(Xg * Wij.', N, H, Wd, Fg);
    end
  end
end
Ho = Hf - crops(1, 1) - crops(1, 2); Wo = Wf - crops(2, 1) - crops(2, 2);
Y = zeros(N, Ho, Wo, Fg * G);
rh = crops(1, 1) + 1:min(Hf, crops(1, 1) + Ho);
rw = crops(2, 1) + 1:min(Wf, crops(2, 1) + Wo);
Y(:, 1:numel(rh), 1:numel(rw), :) = Yf(:, rh, rw, :);
if ~isempty(b)
  Y = Y + reshape(b, 1, 1, 1, []);
end
end
