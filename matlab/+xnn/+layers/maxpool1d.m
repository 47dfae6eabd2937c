function Y = maxpool1d(L, xs, N)
%XNN.LAYERS.MAXPOOL1D  max pooling, 1-D, on N x spatial x C (see xnn.util.poollayer).
Y = xnn.util.poollayer(L, xs, N, 1, 'max');
end
