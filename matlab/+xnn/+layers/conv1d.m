function Y = conv1d(L, xs, N)
%XNN.LAYERS.CONV1D  Conv1D on N x L x C. Weights k x C x F (groups 1) or k x Cg x Fg x G;
%   Bias 1 x F or 1 x Fg x G. Runs as a 2-D convolution with a width of 1.
f = L.fields;
in = double(L.in_shapes{1}(:)');
k = xnn.util.tup(f.kernel_size, 1); s = xnn.util.tup(f.strides, 1); d = xnn.util.tup(f.dilation, 1);
P = [xnn.util.pads(f.padding, in(1), k, s, d); 0 0];
G = double(f.groups);
W5 = reshape(double(L.weights.Weights), k, 1, in(2) / G, double(f.filters) / G, G);
b = [];
if isfield(L.weights, 'Bias'), b = double(L.weights.Bias(:)); end
X = reshape(xs{1}, N, in(1), 1, in(2));
Y = xnn.util.conv2d(X, W5, b, [s 1], [d 1], P);
Y = reshape(Y, N, size(Y, 2), size(Y, 4));
end
