function [blk, outname, problem] = flatten(L, infmt) %#ok<INUSD>
%XNN.TOOLBOX.FLATTEN  Flatten -> Deep Learning Toolbox layer(s), for xnn.toDlnetwork.
%   [blk, outname, problem] = xnn.toolbox.flatten(L, infmt)
%   L: one entry of model.layers (xnn.load); infmt: the dlarray format of its first input.
%   blk: the layer (or a column of layers, the last named outname); problem: '' or why MATLAB
%   has no layer with the same semantics (then blk is empty and nothing is built).
%   Only the column-major order (MATLAB's flattenLayer) that feeds a Dense, see mat-format.md.
f = L.fields; w = L.weights; n = L.name; blk = []; outname = n; problem = ''; %#ok<NASGU>
in = double(L.in_shapes{1}(:)'); %#ok<NASGU>
if strcmp(L.export.order, 'column') || numel(in) == 1
  if strcmp(infmt, 'CBT'), problem = 'flattening time steps'; else, blk = flattenLayer('Name', n); end
else
  problem = 'xnn''s row-major (H, W, C) flatten feeds a layer other than Dense (MATLAB flattens column-major)';
end
end
