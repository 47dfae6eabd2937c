function [blk, outname, problem] = convtranspose2d(L, infmt) %#ok<INUSD>
%XNN.TOOLBOX.CONVTRANSPOSE2D  ConvTranspose2D -> Deep Learning Toolbox layer(s), for xnn.toDlnetwork.
%   [blk, outname, problem] = xnn.toolbox.convtranspose2d(L, infmt)
%   L: one entry of model.layers (xnn.load); infmt: the dlarray format of its first input.
%   blk: the layer (or a column of layers, the last named outname); problem: '' or why MATLAB
%   has no layer with the same semantics (then blk is empty and nothing is built).
%   transposedConv2dLayer with Cropping; shared with the other kind: xnn.util.tbconvtranspose.
[blk, outname, problem] = xnn.util.tbconvtranspose(L, infmt, 2);
end
