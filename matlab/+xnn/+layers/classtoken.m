function Y = classtoken(L, xs, N)
%XNN.LAYERS.CLASSTOKEN  Prepend the learned token: Y(:, 1, :) = Weights', Y(:, 2:end, :) = X.
%   X is N x T x D; Weights is the D x 1 token.
X = xs{1};
D = size(X, 3);
tok = reshape(double(L.weights.Weights(:)), 1, 1, D);
Y = cat(2, repmat(tok, N, 1, 1), X);
end
