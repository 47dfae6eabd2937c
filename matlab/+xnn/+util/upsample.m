function Y = upsample(X, factors, method)
%XNN.UTIL.UPSAMPLE  UpSampling1D/2D on internal N x S1 [x S2] x C data, axis by axis.
%   nearest: output cell o copies input cell floor(o / s); bilinear: half-pixel centres,
%   u = max((o + 0.5) / s - 0.5, 0), i0 = floor(u), i1 = min(i0 + 1, n - 1), weights 1 - (u - i0)
%   and u - i0 (the same float64 matrix as xnn.layers._upsampling.linear_matrix).
sz = size(X);
sz(end+1:numel(factors) + 2) = 1;
Y = X;
for a = 1:numel(factors)
  s = factors(a);
  n = sz(a + 1);
  if s == 1, continue; end
  if strcmp(method, 'nearest')
    idx = floor((0:n * s - 1) / s) + 1;
    subs = repmat({':'}, 1, numel(sz));
    subs{a + 1} = idx;
    Y = Y(subs{:});
  else
    m = n * s; scale = n / m;
    A = zeros(m, n);
    for o = 0:m - 1
      u = max(scale * (o + 0.5) - 0.5, 0);
      i0 = floor(u); lam = min(max(u - i0, 0), 1);
      i1 = i0; if i0 < n - 1, i1 = i0 + 1; end
      A(o + 1, i0 + 1) = A(o + 1, i0 + 1) + (1 - lam);
      A(o + 1, i1 + 1) = A(o + 1, i1 + 1) + lam;
    end
    perm = [a + 1, 1:a, a + 2:numel(sz)];
    cur = size(Y); cur(end+1:numel(sz)) = 1;
    Z = reshape(permute(Y, perm), n, []);
    Z = A * Z;
    Y = ipermute(reshape(Z, [m, cur(perm(2:end))]), perm);
  end
  sz = size(Y); sz(end+1:numel(factors) + 2) = 1;
end
end
