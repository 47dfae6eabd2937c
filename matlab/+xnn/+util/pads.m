function P = pads(padding, spatial, k, s, d)
%XNN.UTIL.PADS  nd x 2 [before after] padding per spatial axis, xnn's rules:
%   'valid' none; 'same' as TensorFlow (total = max((ceil(L/s)-1)*s + (k-1)*d + 1 - L, 0), the
%   extra cell at the end); a number or list: symmetric.
nd = numel(spatial);
P = zeros(nd, 2);
if ischar(padding)
  if strcmp(padding, 'same')
    for i = 1:nd
      total = max((ceil(spatial(i) / s(i)) - 1) * s(i) + (k(i) - 1) * d(i) + 1 - spatial(i), 0);
      P(i, :) = [floor(total / 2), total - floor(total / 2)];
    end
  end
else
  p = xnn.util.tup(padding, nd);
  P = [p(:), p(:)];
end
end
