function [blk, outname, problem] = reshape(L, infmt) %#ok<INUSD>
%XNN.TOOLBOX.RESHAPE  Reshape -> Deep Learning Toolbox layer(s), for xnn.toDlnetwork.
%   [blk, outname, problem] = xnn.toolbox.reshape(L, infmt)
%   L: one entry of model.layers (xnn.load); infmt: the dlarray format of its first input.
%   blk: the layer (or a column of layers, the last named outname); problem: '' or why MATLAB
%   has no layer with the same semantics (then blk is empty and nothing is built).
%   No exact MATLAB equivalent: returns the problem, builds nothing.
blk = []; outname = L.name; problem = 'Reshape is row-major over xnn's channels-last layout; no MATLAB layer does that';
end
