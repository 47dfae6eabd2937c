function Y = lrn(L, xs, N)
%XNN.LAYERS.LRN  Local response normalization across channels (the last axis):
%   x / (bias + alpha / size * sum of x.^2 over the window of size channels) .^ beta.
f = L.fields;
X = xs{1};
in = double(L.in_shapes{1}(:)');
C = in(end);
k = double(f.size); h = (k - 1) / 2;
X2 = reshape(X, [], C);  % channels last: one row per (sample, position)
Q = X2 .^ 2;
S = zeros(size(Q));
for d = -h:h
  lo = max(1, 1 - d); hi = min(C, C - d);
  S(:, lo:hi) = S(:, lo:hi) + Q(:, (lo:hi) + d);
end
Y = reshape(X2 ./ (double(f.bias) + double(f.alpha) / k * S) .^ double(f.beta), size(X));
end
