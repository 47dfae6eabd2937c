function Y = convtranspose2d(L, xs, N)
%XNN.LAYERS.CONVTRANSPOSE2D  ConvTranspose2D on N x H x W x C. Weights h x w x F/G x C, Bias 1 x 1 x F;
%   L.export.crops: the [lo hi] cut of each axis from the full output (xnn's padding rules).
f = L.fields;
in = double(L.in_shapes{1}(:)');
k = xnn.util.tup(f.kernel_size, 2); s = xnn.util.tup(f.strides, 2); d = xnn.util.tup(f.dilation, 2);
G = double(f.groups);
W = reshape(double(L.weights.Weights), k(1), k(2), double(f.filters) / G, in(3));
b = [];
if isfield(L.weights, 'Bias'), b = double(L.weights.Bias(:)); end
X = reshape(xs{1}, N, in(1), in(2), in(3));
Y = xnn.util.convtranspose(X, W, b, s, d, G, reshape(double(L.export.crops), 2, 2));
end
