function Y = upsampling1d(L, xs, N)
%XNN.LAYERS.UPSAMPLING1D  N x L x C -> N x L*s x C, each step repeated s times.
in = double(L.in_shapes{1}(:)');
X = reshape(xs{1}, N, in(1), in(2));
Y = xnn.util.upsample(X, xnn.util.tup(L.fields.size, 1), 'nearest');
end
