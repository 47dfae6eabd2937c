function Y = rowreshape(X, N, outshape)
%XNN.UTIL.ROWRESHAPE  Reshape internal N x ... data row-major (numpy/xnn order) to [N outshape].
r = max(ndims(X), 2);
Xr = permute(X, r:-1:1);
full = [N, outshape(:)'];
if numel(full) == 1, full = [full 1]; end
Y = reshape(Xr, fliplr(full));
Y = permute(Y, numel(full):-1:1);
end
