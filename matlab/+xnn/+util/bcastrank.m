function X = bcastrank(X, s, R, N)
%XNN.UTIL.BCASTRANK  N x s (per-sample shape s, channels-last) -> N x 1 x .. x 1 x s with
%   per-sample rank R: the unit axes go right after the batch axis, NumPy's rule for per-sample
%   shapes (Multiply, Subtract). MATLAB's implicit expansion then broadcasts the unit axes.
s = double(s(:)');
if numel(s) < R
  X = reshape(X, [N, ones(1, R - numel(s)), s, 1]);
end
end
