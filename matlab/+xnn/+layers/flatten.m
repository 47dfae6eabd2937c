function Y = flatten(L, xs, N)
%XNN.LAYERS.FLATTEN  N x d1 x ... x dk -> N x prod(d). export.order 'column': MATLAB's
%   column-major flattenLayer order (h fastest; the next Dense weights were permuted for it);
%   'row': xnn's row-major (H, W, C) order.
in = double(L.in_shapes{1}(:)');
if strcmp(L.export.order, 'column')
  Y = reshape(xs{1}, N, prod(in));
else
  Y = xnn.util.rowreshape(xs{1}, N, prod(in));
end
end
