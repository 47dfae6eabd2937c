function Y = multiheadattention(L, xs, N)
%XNN.LAYERS.MULTIHEADATTENTION  Scaled dot-product attention, self or cross, optional key padding
%   mask (last input, 1 = attend) and causal mask. Weights keep the Dense layout (out x in):
%   QueryWeights (H*dk x Eq), KeyWeights, ValueWeights (H*dv x Ekv), OutputWeights; head h owns a
%   contiguous block of rows. A query that may attend to no key outputs zeros.
f = L.fields; w = L.weights;
shp = L.in_shapes;
q = xs{1}; kv = q; mask = [];
if numel(shp) > 1 && numel(shp{2}) == 2, kv = xs{2}; end
if numel(shp) > 1 && numel(shp{end}) == 1, mask = reshape(xs{end}, N, []) > 0.5; end
H = double(f.num_heads);
Tq = size(q, 2); Tk = size(kv, 2);
Wq = double(w.QueryWeights); Wk = double(w.KeyWeights); Wv = double(w.ValueWeights); Wo = double(w.OutputWeights);
dk = size(Wq, 1) / H; dv = size(Wv, 1) / H;
hasb = isfield(w, 'QueryBias');
Qp = proj(q, Wq, w, 'QueryBias', hasb); Kp = proj(kv, Wk, w, 'KeyBias', hasb); Vp = proj(kv, Wv, w, 'ValueBias', hasb);
Qp = reshape(Qp, N, Tq, dk, H); Kp = reshape(Kp, N, Tk, dk, H); Vp = reshape(Vp, N, Tk, dv, H);
ctx = zeros(N, Tq, dv, H);
anyok = true(N, Tq);
for n = 1:N
  A = true(Tq, Tk);
  if ~isempty(mask), A = A & repmat(mask(n, :), Tq, 1); end
  if f.causal, A = A & tril(true(Tq, Tk)); end
  rowok = any(A, 2);
  anyok(n, :) = rowok';
  for h = 1:H
    Qh = reshape(Qp(n, :, :, h), Tq, dk); Kh = reshape(Kp(n, :, :, h), Tk, dk); Vh = reshape(Vp(n, :, :, h), Tk, dv);
    S = Qh * Kh.' / sqrt(dk);
    S(~A) = -Inf;
    S(~rowok, :) = 0;
    S = exp(S - max(S, [], 2));
    S = S ./ sum(S, 2);
    ctx(n, :, :, h) = reshape(S * Vh, 1, Tq, dv);
  end
end
Y = reshape(ctx, N * Tq, dv * H) * Wo.';
if hasb, Y = Y + double(w.OutputBias(:)).'; end
Y = reshape(Y, N, Tq, size(Wo, 1)) .* double(anyok);
end

function P = proj(x, W, w, bname, hasb)
P = reshape(x, size(x, 1) * size(x, 2), []) * W.';
if hasb, P = P + double(w.(bname)(:)).'; end
end
