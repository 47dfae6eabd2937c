function Y = positionalembedding(L, xs, N)
%XNN.LAYERS.POSITIONALEMBEDDING  y(:, t, :) = x(:, t, :) + P(t, :). learned: Weights is
%   F x max_length (positionEmbeddingLayer layout); sinusoidal: Vaswani et al.'s table.
in = double(L.in_shapes{1}(:)');
T = in(1); F = in(2);
if strcmp(L.fields.mode, 'learned')
  P = double(L.weights.Weights).';
else
  len = double(L.fields.max_length);
  pos = (0:len - 1)';
  rate = exp((0:2:F - 1) * (-log(10000) / F));
  P = zeros(len, F);
  P(:, 1:2:end) = sin(pos * rate);
  P(:, 2:2:end) = cos(pos * rate(1:floor(F / 2)));
end
Y = xs{1} + reshape(P(1:T, :), 1, T, F);
end
