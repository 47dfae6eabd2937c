function [blk, outname, problem] = maskedglobalmaxpool1d(L, infmt) %#ok<INUSD>
%XNN.TOOLBOX.MASKEDGLOBALMAXPOOL1D  MaskedGlobalMaxPool1D -> Deep Learning Toolbox layer(s), for xnn.toDlnetwork.
%   [blk, outname, problem] = xnn.toolbox.maskedglobalmaxpool1d(L, infmt)
%   L: one entry of model.layers (xnn.load); infmt: the dlarray format of its first input.
%   blk: the layer (or a column of layers, the last named outname); problem: '' or why MATLAB
%   has no layer with the same semantics (then blk is empty and nothing is built).
%   No exact MATLAB equivalent: returns the problem, builds nothing.
blk = []; outname = L.name; problem = 'masked pooling has no Deep Learning Toolbox layer';
end
