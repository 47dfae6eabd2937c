function Y = lstm(L, xs, N)
%XNN.LAYERS.LSTM  xnn's LSTM (gate rows i, f, g, o as MATLAB's lstmLayer): stacked,
%   bidirectional, mask-aware. Weights per layer/direction key (l0, l0_reverse, ...):
%   InputWeights_<key> 4H x in, RecurrentWeights_<key> 4H x H, Bias_<key> 4H x 1
%   (xnn's bias_ih + bias_hh, the one bias lstmLayer has).
Y = xnn.util.rnn(L, xs, N, 'lstm');
end
