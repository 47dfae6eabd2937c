function [blk, outname, problem] = globalmaxpool1d(L, infmt) %#ok<INUSD>
%XNN.TOOLBOX.GLOBALMAXPOOL1D  GlobalMaxPool1D -> Deep Learning Toolbox layer(s), for xnn.toDlnetwork.
%   [blk, outname, problem] = xnn.toolbox.globalmaxpool1d(L, infmt)
%   L: one entry of model.layers (xnn.load); infmt: the dlarray format of its first input.
%   blk: the layer (or a column of layers, the last named outname); problem: '' or why MATLAB
%   has no layer with the same semantics (then blk is empty and nothing is built).
%   globalMaxPooling1dLayer followed by a flattenLayer: xnn's output is (N, C), format CB.
n = L.name; problem = '';
blk = [globalMaxPooling1dLayer('Name', n); flattenLayer('Name', [n '_flatten'])];
outname = [n '_flatten'];
end
