function [blk, outname, problem] = add(L, infmt) %#ok<INUSD>
%XNN.TOOLBOX.ADD  Add -> Deep Learning Toolbox layer(s), for xnn.toDlnetwork.
%   [blk, outname, problem] = xnn.toolbox.add(L, infmt)
%   L: one entry of model.layers (xnn.load); infmt: the dlarray format of its first input.
%   blk: the layer (or a column of layers, the last named outname); problem: '' or why MATLAB
%   has no layer with the same semantics (then blk is empty and nothing is built).
%   
f = L.fields; w = L.weights; n = L.name; blk = []; outname = n; problem = ''; %#ok<NASGU>
in = double(L.in_shapes{1}(:)'); %#ok<NASGU>
blk = additionLayer(numel(L.inputs), 'Name', n);
end
