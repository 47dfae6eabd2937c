function [blk, outname, problem] = classtoken(L, infmt) %#ok<INUSD>
%XNN.TOOLBOX.CLASSTOKEN  ClassToken -> Deep Learning Toolbox layer(s), for xnn.toDlnetwork.
%   [blk, outname, problem] = xnn.toolbox.classtoken(L, infmt)
%   L: one entry of model.layers (xnn.load); infmt: the dlarray format of its first input.
%   blk: the layer (or a column of layers, the last named outname); problem: '' or why MATLAB
%   has no layer with the same semantics (then blk is empty and nothing is built).
%   No documented MATLAB equivalent: returns the problem, builds nothing.
blk = []; outname = L.name;
problem = 'no documented Deep Learning Toolbox layer prepends a learned token (embeddingConcatenationLayer, R2023b+, is unconfirmed)';
end
