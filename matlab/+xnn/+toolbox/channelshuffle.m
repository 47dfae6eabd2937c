function [blk, outname, problem] = channelshuffle(L, infmt) %#ok<INUSD>
%XNN.TOOLBOX.CHANNELSHUFFLE  ChannelShuffle -> Deep Learning Toolbox layer(s), for xnn.toDlnetwork.
%   [blk, outname, problem] = xnn.toolbox.channelshuffle(L, infmt)
%   L: one entry of model.layers (xnn.load); infmt: the dlarray format of its first input.
%   blk: the layer (or a column of layers, the last named outname); problem: '' or why MATLAB
%   has no layer with the same semantics (then blk is empty and nothing is built).
%   The Deep Learning Toolbox has no documented channel shuffle layer (importNetworkFromONNX
%   writes a custom layer for the pattern): returns the problem, builds nothing.
blk = []; outname = L.name;
problem = 'no documented Deep Learning Toolbox layer shuffles channel groups (use a functionLayer)';
end
