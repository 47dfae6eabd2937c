function Y = dense(L, xs, N)
%XNN.LAYERS.DENSE  y = x * Weights.' + Bias.' on the last axis (Weights: Out x In, Bias: Out x 1).
%   After a Flatten written column-major the stored Weights columns are already permuted
%   (MATLAB's flattenLayer order), so nothing else changes here.
X = xs{1};
W = double(L.weights.Weights);
in = double(L.in_shapes{1}(:)');
Y = reshape(X, [], in(end)) * W.';
if isfield(L.weights, 'Bias')
  Y = Y + double(L.weights.Bias(:)).';
end
Y = reshape(Y, [N, in(1:end-1), size(W, 1)]);
end
