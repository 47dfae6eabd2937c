function Y = cropping2d(L, xs, N)
%XNN.LAYERS.CROPPING2D  Cells removed around the spatial axes: N x H x W x C -> N x (H-t-b) x (W-l-r) x C.
in = double(L.in_shapes{1}(:)');
P = xnn.util.padcrop(L.fields.cropping, 2);
X = reshape(xs{1}, N, in(1), in(2), in(3));
Y = X(:, P(1, 1) + 1:in(1) - P(1, 2), P(2, 1) + 1:in(2) - P(2, 2), :);
end
