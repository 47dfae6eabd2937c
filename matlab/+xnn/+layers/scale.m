function Y = scale(L, xs, N) %#ok<INUSD>
%XNN.LAYERS.SCALE  Y = X .* Scale + Offset, the parameters broadcast against each sample.
%   Scale/Offset are stored in the input's dlarray layout without the batch axis;
%   L.export.shape is their per-sample shape at the input's full rank (channels last), so
%   they are rearranged to 1 x shape, the layout X has here (batch first).
X = xs{1};
s = double(L.export.shape(:)');
Y = X .* arrange(L.weights.Scale, L.export.format, s);
if isfield(L.weights, 'Offset')
  Y = Y + arrange(L.weights.Offset, L.export.format, s);
end
end

function v = arrange(w, fmt, s)
w = double(w);
if strcmp(fmt, 'CBT')  % F x 1 x T -> 1 x T x F
  w = permute(w, [2 3 1]);
end
v = reshape(w, [1, s]);
end
