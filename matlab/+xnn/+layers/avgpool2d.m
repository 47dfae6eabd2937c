function Y = avgpool2d(L, xs, N)
%XNN.LAYERS.AVGPOOL2D  avg pooling, 2-D, on N x spatial x C (see xnn.util.poollayer).
Y = xnn.util.poollayer(L, xs, N, 2, 'avg');
end
