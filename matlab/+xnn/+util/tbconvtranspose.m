function [blk, outname, problem] = tbconvtranspose(L, infmt, nd)
%XNN.UTIL.TBCONVTRANSPOSE  ConvTranspose1D/2D -> transposedConv1dLayer / transposedConv2dLayer
%   (xnn.toolbox.convtranspose1d/2d call this; MATLAB toolbox only). MATLAB's layer cuts
%   'Cropping' cells from the full output and has no dilation, groups or output padding: those
%   (and a 'same' whose stride exceeds the kernel, which appends cells) are refused. Cropping is
%   [vert horiz] when symmetric, else [t b l r] (the 4-element form is unconfirmed here).
f = L.fields; w = L.weights; n = L.name; blk = []; outname = n; problem = '';
k = xnn.util.tup(f.kernel_size, nd); s = xnn.util.tup(f.strides, nd); d = xnn.util.tup(f.dilation, nd);
G = double(f.groups); F = double(f.filters);
c = reshape(double(L.export.crops), nd, 2);
if G ~= 1
  problem = 'grouped transposed convolution has no MATLAB layer'; return;
end
if any(d ~= 1)
  problem = 'transposedConv*dLayer has no dilation'; return;
end
if any(c(:) < 0)
  problem = ['the output extends past the full transposed convolution (output_padding, or ''same'' ' ...
             'with a stride above the kernel); MATLAB''s Cropping cannot be negative']; return;
end
W = single(w.Weights);
if isfield(w, 'Bias'), b = single(w.Bias); lr = 1; else, b = []; lr = 0; end
if nd == 2
  if all(c(:, 1) == c(:, 2)), crop = c(:, 1)'; else, crop = [c(1, :) c(2, :)]; end
  if isempty(b), b = zeros(1, 1, F, 'single'); end
  blk = transposedConv2dLayer(k, F, 'Stride', s, 'Cropping', crop, 'Weights', W, 'Bias', b, ...
                              'BiasLearnRateFactor', lr, 'Name', n);
elseif strcmp(infmt, 'SCB')
  if isempty(b), b = zeros(1, F, 'single'); end
  blk = transposedConv1dLayer(k, F, 'Stride', s, 'Cropping', c(1, :), 'Weights', W, 'Bias', b, ...
                              'BiasLearnRateFactor', lr, 'Name', n);
else
  problem = sprintf('a 1-D transposed convolution of %s data', infmt);
end
end
