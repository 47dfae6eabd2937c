function Y = fromdl(X, fmt)
%XNN.UTIL.FROMDL  dlarray order (fmt: 'CB', 'CBT', 'SCB', 'SSCB', ...) -> internal N x ... x C.
%   The internal layout has xnn's subscripts: batch first, channels last. Plain M.
switch fmt
  case 'CB'
    Y = X.';
  case 'CBT'
    Y = permute(X, [2 3 1]);
  otherwise
    k = numel(fmt);
    Y = permute(X, [k, 1:k-1]);
end
end
