function Y = avgpool2d(L, xs, N)
%XNN.LAYERS.AVGPOOL2D  avg pooling, 2-D, on N x spatial x C. 'same' pads as TensorFlow;
%   max pads with -Inf, average excludes padded cells from the divisor.
f = L.fields;
in = double(L.in_shapes{1}(:)');
k = xnn.util.tup(f.pool_size, 2);
if isempty(f.strides), s = k; else, s = xnn.util.tup(f.strides, 2); end
P = xnn.util.pads(f.padding, in(1:2), k, s, ones(1, 2));
if 2 == 1
  X = reshape(xs{1}, N, in(1), 1, in(2));
  Y = xnn.util.pool2d(X, [k 1], [s 1], [P; 0 0], 'avg');
  Y = reshape(Y, N, size(Y, 2), in(2));
else
  Y = xnn.util.pool2d(xs{1}, k, s, P, 'avg');
end
end
