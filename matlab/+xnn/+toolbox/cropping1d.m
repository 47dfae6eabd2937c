function [blk, outname, problem] = cropping1d(L, infmt) %#ok<INUSD>
%XNN.TOOLBOX.CROPPING1D  Cropping1D -> Deep Learning Toolbox layer(s), for xnn.toDlnetwork.
%   [blk, outname, problem] = xnn.toolbox.cropping1d(L, infmt)
%   L: one entry of model.layers (xnn.load); infmt: the dlarray format of its first input.
%   blk: the layer (or a column of layers, the last named outname); problem: '' or why MATLAB
%   has no layer with the same semantics (then blk is empty and nothing is built).
%   crop2dLayer crops its first input to the size of a second input (unconfirmed here), so a
%   fixed single-input crop has no documented layer: returns the problem, builds nothing.
blk = []; outname = L.name;
problem = 'no documented single-input cropping layer (crop2dLayer crops to the size of a second input)';
end
