function [blk, outname, problem] = lrn(L, infmt) %#ok<INUSD>
%XNN.TOOLBOX.LRN  LRN -> Deep Learning Toolbox layer(s), for xnn.toDlnetwork.
%   [blk, outname, problem] = xnn.toolbox.lrn(L, infmt)
%   L: one entry of model.layers (xnn.load); infmt: the dlarray format of its first input.
%   blk: the layer (or a column of layers, the last named outname); problem: '' or why MATLAB
%   has no layer with the same semantics (then blk is empty and nothing is built).
%   crossChannelNormalizationLayer: x / (K + Alpha * ss / WindowChannelSize) ^ Beta, as xnn's
%   (MATLAB's default K is 2, so every value is passed). Images (SSCB) only; the documented
%   WindowChannelSize is at most 16.
f = L.fields; w = L.weights; n = L.name; blk = []; outname = n; problem = ''; %#ok<NASGU>
in = double(L.in_shapes{1}(:)'); %#ok<NASGU>
if ~strcmp(infmt, 'SSCB')
  problem = sprintf('crossChannelNormalizationLayer is documented for images (SSCB), not %s', infmt); return;
end
if double(f.size) > 16
  problem = sprintf('window size %d: crossChannelNormalizationLayer takes at most 16', double(f.size)); return;
end
blk = crossChannelNormalizationLayer(double(f.size), 'Alpha', double(f.alpha), 'Beta', double(f.beta), ...
                                     'K', double(f.bias), 'Name', n);
end
