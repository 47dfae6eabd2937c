function Y = maxpool2d(L, xs, N)
%XNN.LAYERS.MAXPOOL2D  max pooling, 2-D, on N x spatial x C (see xnn.util.poollayer).
Y = xnn.util.poollayer(L, xs, N, 2, 'max');
end
