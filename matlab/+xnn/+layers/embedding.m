function Y = embedding(L, xs, N)
%XNN.LAYERS.EMBEDDING  Rows of the table by 0-based index (xnn's): Weights is Dim x NumWords.
W = double(L.weights.Weights);
idx = xs{1};
if any(idx(:) < 0 | idx(:) >= size(W, 2) | idx(:) ~= round(idx(:)))
  error('xnn:embedding', 'embedding %s: indices must be integers in [0, %d)', L.name, size(W, 2));
end
in = double(L.in_shapes{1}(:)');
Wt = W.';
Y = reshape(Wt(idx(:) + 1, :), [N, in, size(W, 1)]);
end
