function Y = channelshuffle(L, xs, N) %#ok<INUSD>
%XNN.LAYERS.CHANNELSHUFFLE  Interleave the channel groups (the last axis): output channel j
%   (0-based) is input channel mod(j, groups) * C / groups + floor(j / groups).
X = xs{1};
in = double(L.in_shapes{1}(:)');
C = in(end); g = double(L.fields.groups);
order = reshape(reshape(0:C - 1, C / g, g).', 1, []) + 1;
X2 = reshape(X, [], C);
Y = reshape(X2(:, order), size(X));
end
