function [blk, outname, problem] = upsampling2d(L, infmt) %#ok<INUSD>
%XNN.TOOLBOX.UPSAMPLING2D  UpSampling2D -> Deep Learning Toolbox layer(s), for xnn.toDlnetwork.
%   [blk, outname, problem] = xnn.toolbox.upsampling2d(L, infmt)
%   L: one entry of model.layers (xnn.load); infmt: the dlarray format of its first input.
%   blk: the layer (or a column of layers, the last named outname); problem: '' or why MATLAB
%   has no layer with the same semantics (then blk is empty and nothing is built).
%   resize2dLayer (R2020b; unconfirmed here, as is whether it needs Image Processing Toolbox):
%   nearest with 'GeometricTransformMode' 'asymmetric' and 'NearestRoundingMode' 'floor' (source
%   floor(o / s)); bilinear with 'half-pixel'. toDlnetwork checks the result against the stored
%   reference output.
n = L.name; outname = n; problem = '';
s = xnn.util.tup(L.fields.size, 2);
if strcmp(L.fields.interpolation, 'bilinear')
  blk = resize2dLayer('Scale', s, 'Method', 'bilinear', 'GeometricTransformMode', 'half-pixel', 'Name', n);
else
  blk = resize2dLayer('Scale', s, 'Method', 'nearest', 'GeometricTransformMode', 'asymmetric', ...
                      'NearestRoundingMode', 'floor', 'Name', n);
end
end
