function Y = groupnorm(L, xs, N)
%XNN.LAYERS.GROUPNORM  Per sample: normalize over the spatial axes and each group of C/G
%   contiguous channels (biased variance), then Scale and Offset per channel (when affine).
f = L.fields;
in = double(L.in_shapes{1}(:)');
R = numel(in) + 1;
C = in(end); G = double(f.groups);
if G == -1, G = C; end
% N x S x C/G x G: column-major, so channel c (0-based) = g * C/G + j lands at (j + 1, g + 1)
X = reshape(xs{1}, N, prod(in(1:end-1)), C / G, G);
mu = mean(mean(X, 2), 3);
D = X - mu;
v = mean(mean(D.^2, 2), 3);
Y = reshape(D ./ sqrt(v + double(f.eps)), [N, in]);
if isfield(L.weights, 'Scale')
  Y = Y .* xnn.util.lastaxis(L.weights.Scale, R) + xnn.util.lastaxis(L.weights.Offset, R);
end
end
