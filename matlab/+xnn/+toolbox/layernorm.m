function [blk, outname, problem] = layernorm(L, infmt) %#ok<INUSD>
%XNN.TOOLBOX.LAYERNORM  LayerNorm -> Deep Learning Toolbox layer(s), for xnn.toDlnetwork.
%   [blk, outname, problem] = xnn.toolbox.layernorm(L, infmt)
%   L: one entry of model.layers (xnn.load); infmt: the dlarray format of its first input.
%   blk: the layer (or a column of layers, the last named outname); problem: '' or why MATLAB
%   has no layer with the same semantics (then blk is empty and nothing is built).
%   Over channels only ('channel-only') on spatial data, as xnn's last-axis LayerNorm.
f = L.fields; w = L.weights; n = L.name; blk = []; outname = n; problem = ''; %#ok<NASGU>
in = double(L.in_shapes{1}(:)'); %#ok<NASGU>
args = {'Epsilon', double(f.eps), 'Scale', single(w.Scale), 'Offset', single(w.Offset), 'Name', n};
if any(infmt == 'S'), args = [args, {'OperationDimension', 'channel-only'}]; end
blk = layerNormalizationLayer(args{:});
end
