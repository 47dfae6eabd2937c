function [blk, outname, problem] = globalavgpool2d(L, infmt) %#ok<INUSD>
%XNN.TOOLBOX.GLOBALAVGPOOL2D  GlobalAvgPool2D -> Deep Learning Toolbox layer(s), for xnn.toDlnetwork.
%   [blk, outname, problem] = xnn.toolbox.globalavgpool2d(L, infmt)
%   L: one entry of model.layers (xnn.load); infmt: the dlarray format of its first input.
%   blk: the layer (or a column of layers, the last named outname); problem: '' or why MATLAB
%   has no layer with the same semantics (then blk is empty and nothing is built).
%   Followed by a flattenLayer: xnn's output is (N, C), format CB.
f = L.fields; w = L.weights; n = L.name; blk = []; outname = n; problem = ''; %#ok<NASGU>
in = double(L.in_shapes{1}(:)'); %#ok<NASGU>
blk = [globalAveragePooling2dLayer('Name', n); flattenLayer('Name', [n '_flatten'])];
outname = [n '_flatten'];
end
