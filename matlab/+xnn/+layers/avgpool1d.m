function Y = avgpool1d(L, xs, N)
%XNN.LAYERS.AVGPOOL1D  avg pooling, 1-D, on N x spatial x C (see xnn.util.poollayer).
Y = xnn.util.poollayer(L, xs, N, 1, 'avg');
end
