function Y = batchnorm(L, xs, N)
%XNN.LAYERS.BATCHNORM  (x - TrainedMean) / sqrt(TrainedVariance + eps) * Scale + Offset per channel.
R = numel(L.in_shapes{1}) + 1;
w = L.weights;
m = xnn.util.lastaxis(w.TrainedMean, R); v = xnn.util.lastaxis(w.TrainedVariance, R);
g = xnn.util.lastaxis(w.Scale, R); b = xnn.util.lastaxis(w.Offset, R);
Y = (xs{1} - m) ./ sqrt(v + double(L.fields.eps)) .* g + b;
end
