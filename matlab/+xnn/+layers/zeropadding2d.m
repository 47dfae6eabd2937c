function Y = zeropadding2d(L, xs, N)
%XNN.LAYERS.ZEROPADDING2D  Zeros around the spatial axes: N x H x W x C -> N x (t+H+b) x (l+W+r) x C.
in = double(L.in_shapes{1}(:)');
P = xnn.util.padcrop(L.fields.padding, 2);
Y = zeros(N, in(1) + P(1, 1) + P(1, 2), in(2) + P(2, 1) + P(2, 2), in(3));
Y(:, P(1, 1) + (1:in(1)), P(2, 1) + (1:in(2)), :) = reshape(xs{1}, N, in(1), in(2), in(3));
end
