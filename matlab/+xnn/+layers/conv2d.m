function Y = conv2d(L, xs, N)
%XNN.LAYERS.CONV2D  Conv2D on N x H x W x C. Weights h x w x C x F (groups 1) or
%   h x w x Cg x Fg x G; Bias 1 x 1 x F or 1 x 1 x Fg x G. 'same' pads as TensorFlow.
f = L.fields;
in = double(L.in_shapes{1}(:)');
k = xnn.util.tup(f.kernel_size, 2); s = xnn.util.tup(f.strides, 2); d = xnn.util.tup(f.dilation, 2);
P = xnn.util.pads(f.padding, in(1:2), k, s, d);
G = double(f.groups);
W = double(L.weights.Weights);
W5 = reshape(W, k(1), k(2), in(3) / G, double(f.filters) / G, G);
b = [];
if isfield(L.weights, 'Bias'), b = double(L.weights.Bias(:)); end
Y = xnn.util.conv2d(xs{1}, W5, b, s, d, P);
end
