function Y = todl(X, fmt)
%XNN.UTIL.TODL  Internal N x ... x C -> dlarray order for fmt (inverse of xnn.util.fromdl).
switch fmt
  case 'CB'
    Y = X.';
  case 'CBT'
    Y = permute(X, [3 1 2]);
  otherwise
    k = numel(fmt);
    Y = permute(X, [2:k, 1]);
end
end
