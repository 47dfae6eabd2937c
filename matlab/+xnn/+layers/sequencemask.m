function Y = sequencemask(L, xs, N)
%XNN.LAYERS.SEQUENCEMASK  N x T ids or N x T x F features -> N x T mask (1 = valid), a valid
%   prefix up to the last step that is not pad_value (right padding).
X = xs{1};
pad = double(L.fields.pad_value);
if numel(L.in_shapes{1}) == 1
  nonpad = X ~= pad;
else
  nonpad = any(X ~= pad, 3);
end
nonpad = reshape(double(nonpad), N, []);
Y = double(fliplr(cumsum(fliplr(nonpad), 2)) > 0);
end
