function Y = poollayer(L, xs, N, nd, op)
%XNN.UTIL.POOLLAYER  Max or average pooling over nd (1 or 2) spatial axes of an N x spatial x C
%   array. 'same' pads as TensorFlow (extra cell at the end); max pads with -Inf, average
%   excludes padded cells from the divisor. 1-D pooling runs as 2-D with a width-1 window.
f = L.fields;
in = double(L.in_shapes{1}(:)');
k = xnn.util.tup(f.pool_size, nd);
if isempty(f.strides), s = k; else, s = xnn.util.tup(f.strides, nd); end
P = xnn.util.pads(f.padding, in(1:nd), k, s, ones(1, nd));
if nd == 1
  X = reshape(xs{1}, N, in(1), 1, in(2));
  Y = xnn.util.pool2d(X, [k 1], [s 1], [P; 0 0], op);
  Y = reshape(Y, N, size(Y, 2), in(2));
else
  Y = xnn.util.pool2d(xs{1}, k, s, P, op);
end
end
