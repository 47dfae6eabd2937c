function [blk, outname, problem] = tbpool(L, infmt, nd, op) %#ok<INUSL>
%XNN.UTIL.TBPOOL  MaxPool/AvgPool 1-D/2-D -> MATLAB pooling layers (xnn.toolbox.*pool*d call
%   this; MATLAB toolbox only). MATLAB's average pooling counts padded cells, xnn's does not:
%   a padded average pool is refused.
f = L.fields; n = L.name; blk = []; outname = n; problem = '';
in = double(L.in_shapes{1}(:)');
k = xnn.util.tup(f.pool_size, nd);
if isempty(f.strides), s = k; else, s = xnn.util.tup(f.strides, nd); end
P = xnn.util.pads(f.padding, in(1:nd), k, s, ones(1, nd));
pv = reshape(P.', 1, []);
if strcmp(op, 'avg') && any(pv)
  problem = ['MATLAB''s average pooling counts padded cells in the mean, xnn (Keras ''same'') ' ...
             'excludes them; this layer pads its input'];
elseif nd == 2 && strcmp(op, 'max')
  blk = maxPooling2dLayer(k, 'Stride', s, 'Padding', pv, 'Name', n);
elseif nd == 2
  blk = averagePooling2dLayer(k, 'Stride', s, 'Name', n);
elseif strcmp(op, 'max')
  blk = maxPooling1dLayer(k, 'Stride', s, 'Padding', pv, 'Name', n);
else
  blk = averagePooling1dLayer(k, 'Stride', s, 'Name', n);
end
end
