function Y = cropping1d(L, xs, N)
%XNN.LAYERS.CROPPING1D  Cells removed at both ends of the length axis: N x L x C -> N x (L-l-r) x C.
in = double(L.in_shapes{1}(:)');
P = xnn.util.padcrop(L.fields.cropping, 1);
X = reshape(xs{1}, N, in(1), in(2));
Y = X(:, P(1, 1) + 1:in(1) - P(1, 2), :);
end
