function Y = reshapelayer(L, xs, N)
%XNN.LAYERS.RESHAPELAYER  Reshape (xnn type Reshape): row-major over the channels-last layout.
%   (Not named reshape.m: that would shadow the builtin.)
Y = xnn.util.rowreshape(xs{1}, N, double(L.out_shape(:)'));
end
