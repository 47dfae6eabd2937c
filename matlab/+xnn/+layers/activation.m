function Y = activation(L, xs, N)
%XNN.LAYERS.ACTIVATION  Elementwise activations (softmax over fields.axis, batch-inclusive).
f = L.fields;
X = xs{1};
switch f.fn
  case 'relu'
    Y = max(X, 0);
  case 'leaky_relu'
    Y = X; neg = X < 0; Y(neg) = f.negative_slope * X(neg);
  case 'elu'
    Y = X; neg = X <= 0; Y(neg) = f.alpha * expm1(X(neg));
  case 'gelu'
    Y = 0.5 * X .* (1 + erf(X / sqrt(2)));
  case 'gelu_tanh'
    Y = 0.5 * X .* (1 + tanh(sqrt(2 / pi) * (X + 0.044715 * X.^3)));
  case 'sigmoid'
    Y = 1 ./ (1 + exp(-X));
  case 'tanh'
    Y = tanh(X);
  case 'silu'
    Y = X ./ (1 + exp(-X));
  case 'relu6'
    Y = min(max(X, 0), 6);
  case 'hard_sigmoid'
    Y = min(max(X + 3, 0), 6) / 6;
  case 'hard_swish'
    Y = X .* min(max(X + 3, 0), 6) / 6;
  case 'softmax'
    R = numel(L.in_shapes{1}) + 1;
    ax = double(f.axis);
    if ax >= 0, ax = ax - R; end
    dim = R + ax + 1;
    Z = exp(X - max(X, [], dim));
    Y = Z ./ sum(Z, dim);
  otherwise
    error('xnn:activation', 'activation %s: unknown fn %s', L.name, f.fn);
end
end
