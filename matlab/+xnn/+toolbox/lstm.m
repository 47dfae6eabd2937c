function [blk, outname, problem] = lstm(L, infmt) %#ok<INUSD>
%XNN.TOOLBOX.LSTM  LSTM -> Deep Learning Toolbox layer(s), for xnn.toDlnetwork.
%   [blk, outname, problem] = xnn.toolbox.lstm(L, infmt)
%   L: one entry of model.layers (xnn.load); infmt: the dlarray format of its first input.
%   blk: the layer (or a column of layers, the last named outname); problem: '' or why MATLAB
%   has no layer with the same semantics (then blk is empty and nothing is built).
%   Shared with GRU: xnn.util.tbrnn.
[blk, outname, problem] = xnn.util.tbrnn(L, 'lstm');
end
