function Y = zeropadding1d(L, xs, N)
%XNN.LAYERS.ZEROPADDING1D  Zeros at both ends of the length axis: N x L x C -> N x (l+L+r) x C.
in = double(L.in_shapes{1}(:)');
P = xnn.util.padcrop(L.fields.padding, 1);
Y = zeros(N, in(1) + P(1, 1) + P(1, 2), in(2));
Y(:, P(1, 1) + (1:in(1)), :) = reshape(xs{1}, N, in(1), in(2));
end
