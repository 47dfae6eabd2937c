function Y = gru(L, xs, N)
%XNN.LAYERS.GRU  xnn's GRU (PyTorch's; MATLAB's 'recurrent-bias-after-multiplication' mode, rows
%   r, z, h): InputWeights_<key> 3H x in, RecurrentWeights_<key> 3H x H, Bias_<key> 6H x 1 =
%   [input bias; recurrent bias]. Stacked, bidirectional, mask-aware.
Y = xnn.util.rnn(L, xs, N, 'gru');
end
