function Y = layernorm(L, xs, N)
%XNN.LAYERS.LAYERNORM  Normalize over the last axis (biased variance), then Scale and Offset.
R = numel(L.in_shapes{1}) + 1;
X = xs{1};
mu = mean(X, R);
v = mean((X - mu).^2, R);
Y = (X - mu) ./ sqrt(v + double(L.fields.eps)) .* xnn.util.lastaxis(L.weights.Scale, R) ...
    + xnn.util.lastaxis(L.weights.Offset, R);
end
