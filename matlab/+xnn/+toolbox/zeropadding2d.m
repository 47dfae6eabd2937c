function [blk, outname, problem] = zeropadding2d(L, infmt) %#ok<INUSD>
%XNN.TOOLBOX.ZEROPADDING2D  ZeroPadding2D -> Deep Learning Toolbox layer(s), for xnn.toDlnetwork.
%   [blk, outname, problem] = xnn.toolbox.zeropadding2d(L, infmt)
%   L: one entry of model.layers (xnn.load); infmt: the dlarray format of its first input.
%   blk: the layer (or a column of layers, the last named outname); problem: '' or why MATLAB
%   has no layer with the same semantics (then blk is empty and nothing is built).
%   No documented Deep Learning Toolbox layer pads with zeros on its own (padding is an option
%   of the convolution and pooling layers; the Keras importer's ZeroPadding layer is a support
%   package class): returns the problem, builds nothing.
blk = []; outname = L.name;
problem = 'Deep Learning Toolbox has no standalone zero-padding layer (padding is an option of convolution/pooling layers)';
end
