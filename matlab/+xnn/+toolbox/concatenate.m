function [blk, outname, problem] = concatenate(L, infmt) %#ok<INUSD>
%XNN.TOOLBOX.CONCATENATE  Concatenate -> Deep Learning Toolbox layer(s), for xnn.toDlnetwork.
%   [blk, outname, problem] = xnn.toolbox.concatenate(L, infmt)
%   L: one entry of model.layers (xnn.load); infmt: the dlarray format of its first input.
%   blk: the layer (or a column of layers, the last named outname); problem: '' or why MATLAB
%   has no layer with the same semantics (then blk is empty and nothing is built).
%   The channels-last axis becomes the matching dlarray dimension.
f = L.fields; w = L.weights; n = L.name; blk = []; outname = n; problem = ''; %#ok<NASGU>
in = double(L.in_shapes{1}(:)'); %#ok<NASGU>
rank = numel(in); ax = double(f.axis); if ax >= 0, ax = ax - (rank + 1); end
a = ax + rank + 1;  % 1-based per-sample axis
if strcmp(infmt, 'CBT'), dims = [3 1]; else, dims = 1:rank; end
blk = concatenationLayer(dims(a), numel(L.inputs), 'Name', n);
end
