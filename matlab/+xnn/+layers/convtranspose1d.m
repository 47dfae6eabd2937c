function Y = convtranspose1d(L, xs, N)
%XNN.LAYERS.CONVTRANSPOSE1D  ConvTranspose1D on N x L x C. Weights k x F/G x C, Bias 1 x F; runs as a
%   2-D transposed convolution with a width of 1 (L.export.crops: the [lo hi] cut of the axis).
f = L.fields;
in = double(L.in_shapes{1}(:)');
k = xnn.util.tup(f.kernel_size, 1); s = xnn.util.tup(f.strides, 1); d = xnn.util.tup(f.dilation, 1);
G = double(f.groups);
W = reshape(double(L.weights.Weights), k, 1, double(f.filters) / G, in(2));
b = [];
if isfield(L.weights, 'Bias'), b = double(L.weights.Bias(:)); end
X = reshape(xs{1}, N, in(1), 1, in(2));
c = double(L.export.crops);
Y = xnn.util.convtranspose(X, W, b, [s 1], [d 1], G, [c(:)'; 0 0]);
Y = reshape(Y, N, size(Y, 2), size(Y, 4));
end
