function [blk, outname, problem] = multiply(L, infmt) %#ok<INUSD>
%XNN.TOOLBOX.MULTIPLY  Multiply -> Deep Learning Toolbox layer(s), for xnn.toDlnetwork.
%   [blk, outname, problem] = xnn.toolbox.multiply(L, infmt)
%   L: one entry of model.layers (xnn.load); infmt: the dlarray format of its first input.
%   blk: the layer (or a column of layers, the last named outname); problem: '' or why MATLAB
%   has no layer with the same semantics (then blk is empty and nothing is built).
%   multiplicationLayer: its inputs must have the same size, or the same size on some dimensions
%   and 1 on the others. Inputs of another rank (e.g. a (C,) vector, format CB, times an image,
%   SSCB) have another dlarray format: a problem (reshape the vector to (1, 1, C) first).
f = L.fields; w = L.weights; n = L.name; blk = []; outname = n; problem = ''; %#ok<NASGU>
in = double(L.in_shapes{1}(:)'); %#ok<NASGU>
out = double(L.out_shape(:)');
for i = 1:numel(L.in_shapes)
  s = double(L.in_shapes{i}(:)');
  if numel(s) ~= numel(out)
    problem = sprintf(['input %d has per-sample rank %d, the output %d: multiplicationLayer broadcasts ' ...
                       'unit dimensions of inputs of one format only'], i, numel(s), numel(out));
    return;
  end
end
blk = multiplicationLayer(numel(L.inputs), 'Name', n);
end
