function [blk, outname, problem] = dense(L, infmt) %#ok<INUSD>
%XNN.TOOLBOX.DENSE  Dense -> Deep Learning Toolbox layer(s), for xnn.toDlnetwork.
%   [blk, outname, problem] = xnn.toolbox.dense(L, infmt)
%   L: one entry of model.layers (xnn.load); infmt: the dlarray format of its first input.
%   blk: the layer (or a column of layers, the last named outname); problem: '' or why MATLAB
%   has no layer with the same semantics (then blk is empty and nothing is built).
%   On images a Dense is a 1x1 convolution; on signals a width-1 1-D convolution.
f = L.fields; w = L.weights; n = L.name; blk = []; outname = n; problem = ''; %#ok<NASGU>
in = double(L.in_shapes{1}(:)'); %#ok<NASGU>
W = single(w.Weights); o = size(W, 1);
if isfield(w, 'Bias'), b = single(w.Bias(:)); lr = 1; else, b = zeros(o, 1, 'single'); lr = 0; end
switch infmt
  case {'CB', 'CBT'}
    blk = fullyConnectedLayer(o, 'Weights', W, 'Bias', b, 'BiasLearnRateFactor', lr, 'Name', n);
  case 'SSCB'  % Dense on the channel axis of an image = a 1x1 convolution
    blk = convolution2dLayer([1 1], o, 'Weights', reshape(W.', 1, 1, [], o), 'Bias', reshape(b, 1, 1, o), ...
                             'BiasLearnRateFactor', lr, 'Name', n);
  case 'SCB'
    blk = convolution1dLayer(1, o, 'Weights', reshape(W.', 1, [], o), 'Bias', reshape(b, 1, o), ...
                             'BiasLearnRateFactor', lr, 'Name', n);
  otherwise, problem = sprintf('Dense on %s data', infmt);
end
end
