function Y = upsampling2d(L, xs, N)
%XNN.LAYERS.UPSAMPLING2D  N x H x W x C -> N x H*sh x W*sw x C, nearest or bilinear (half-pixel).
in = double(L.in_shapes{1}(:)');
X = reshape(xs{1}, N, in(1), in(2), in(3));
Y = xnn.util.upsample(X, xnn.util.tup(L.fields.size, 2), L.fields.interpolation);
end
