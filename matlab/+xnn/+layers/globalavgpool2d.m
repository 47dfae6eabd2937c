function Y = globalavgpool2d(L, xs, N)
%XNN.LAYERS.GLOBALAVGPOOL2D  Mean over the spatial axes: N x spatial x C -> N x C.
in = double(L.in_shapes{1}(:)');
X = reshape(xs{1}, N, prod(in(1:end-1)), in(end));
Y = reshape(mean(X, 2), N, in(end));
end
