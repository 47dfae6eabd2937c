function Y = multiply(L, xs, N)
%XNN.LAYERS.MULTIPLY  Elementwise product with NumPy broadcasting of the per-sample shapes
%   (a shorter shape gets unit axes after the batch axis, then implicit expansion).
R = max(cellfun(@numel, L.in_shapes));
Y = xnn.util.bcastrank(xs{1}, L.in_shapes{1}, R, N);
for i = 2:numel(xs)
  Y = Y .* xnn.util.bcastrank(xs{i}, L.in_shapes{i}, R, N);
end
end
