function Y = globalmaxpool2d(L, xs, N)
%XNN.LAYERS.GLOBALMAXPOOL2D  Maximum over the spatial axes: N x spatial x C -> N x C.
in = double(L.in_shapes{1}(:)');
X = reshape(xs{1}, N, prod(in(1:end-1)), in(end));
Y = reshape(max(X, [], 2), N, in(end));
end
