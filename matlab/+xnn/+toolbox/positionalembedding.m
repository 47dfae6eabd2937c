function [blk, outname, problem] = positionalembedding(L, infmt) %#ok<INUSD>
%XNN.TOOLBOX.POSITIONALEMBEDDING  PositionalEmbedding -> Deep Learning Toolbox layer(s), for xnn.toDlnetwork.
%   [blk, outname, problem] = xnn.toolbox.positionalembedding(L, infmt)
%   L: one entry of model.layers (xnn.load); infmt: the dlarray format of its first input.
%   blk: the layer (or a column of layers, the last named outname); problem: '' or why MATLAB
%   has no layer with the same semantics (then blk is empty and nothing is built).
%   No exact MATLAB equivalent: returns the problem, builds nothing.
blk = []; outname = L.name; problem = 'no built-in MATLAB layer with the same semantics';
end
