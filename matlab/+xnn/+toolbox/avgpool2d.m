function [blk, outname, problem] = avgpool2d(L, infmt) %#ok<INUSD>
%XNN.TOOLBOX.AVGPOOL2D  AvgPool2D -> Deep Learning Toolbox layer(s), for xnn.toDlnetwork.
%   [blk, outname, problem] = xnn.toolbox.avgpool2d(L, infmt)
%   L: one entry of model.layers (xnn.load); infmt: the dlarray format of its first input.
%   blk: the layer (or a column of layers, the last named outname); problem: '' or why MATLAB
%   has no layer with the same semantics (then blk is empty and nothing is built).
%   Shared with the other pools: xnn.util.tbpool.
[blk, outname, problem] = xnn.util.tbpool(L, infmt, 2, 'avg');
end
