function P = padcrop(v, nd)
%XNN.UTIL.PADCROP  nd x 2 [lo hi] amounts of ZeroPadding/Cropping (1-D: n or [left right];
%   2-D: n, [rows cols] symmetric, or [[top bottom]; [left right]] as jsondecode gives it).
v = double(v);
if numel(v) == 1
  P = repmat(v, nd, 2);
elseif nd == 1
  P = v(:)';
elseif numel(v) == 2
  P = [v(:), v(:)];
else
  P = v;  % 2 x 2, row i = axis i
end
end
