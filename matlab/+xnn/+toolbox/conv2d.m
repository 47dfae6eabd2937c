function [blk, outname, problem] = conv2d(L, infmt) %#ok<INUSD>
%XNN.TOOLBOX.CONV2D  Conv2D -> Deep Learning Toolbox layer(s), for xnn.toDlnetwork.
%   [blk, outname, problem] = xnn.toolbox.conv2d(L, infmt)
%   L: one entry of model.layers (xnn.load); infmt: the dlarray format of its first input.
%   blk: the layer (or a column of layers, the last named outname); problem: '' or why MATLAB
%   has no layer with the same semantics (then blk is empty and nothing is built).
%   Shared with the other convolutions: xnn.util.tbconv.
[blk, outname, problem] = xnn.util.tbconv(L, infmt, 2);
end
