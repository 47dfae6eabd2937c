function [blk, outname, problem] = tbconv(L, infmt, nd)
%XNN.UTIL.TBCONV  Conv1D/Conv2D -> convolution1dLayer, convolution2dLayer or
%   groupedConvolution2dLayer (xnn.toolbox.conv1d/conv2d call this; MATLAB toolbox only).
f = L.fields; w = L.weights; n = L.name; blk = []; outname = n; problem = '';
in = double(L.in_shapes{1}(:)');
k = xnn.util.tup(f.kernel_size, nd); s = xnn.util.tup(f.strides, nd); d = xnn.util.tup(f.dilation, nd);
P = xnn.util.pads(f.padding, in(1:nd), k, s, d);
G = double(f.groups); F = double(f.filters);
W = single(w.Weights);
if isfield(w, 'Bias'), b = single(w.Bias); lr = 1; else, b = []; lr = 0; end
if nd == 2 && G == 1
  if isempty(b), b = zeros(1, 1, F, 'single'); end
  blk = convolution2dLayer(k, F, 'Stride', s, 'DilationFactor', d, 'Padding', [P(1, :) P(2, :)], ...
                           'Weights', W, 'Bias', b, 'BiasLearnRateFactor', lr, 'Name', n);
elseif nd == 2
  if isempty(b), b = zeros(1, 1, F / G, G, 'single'); end
  blk = groupedConvolution2dLayer(k, F / G, G, 'Stride', s, 'DilationFactor', d, 'Padding', [P(1, :) P(2, :)], ...
                                  'Weights', W, 'Bias', b, 'BiasLearnRateFactor', lr, 'Name', n);
elseif G == 1 && strcmp(infmt, 'SCB')
  if isempty(b), b = zeros(1, F, 'single'); end
  blk = convolution1dLayer(k, F, 'Stride', s, 'DilationFactor', d, 'Padding', P(1, :), ...
                           'Weights', W, 'Bias', b, 'BiasLearnRateFactor', lr, 'Name', n);
else
  problem = 'grouped 1-D convolution has no MATLAB layer';
end
end
