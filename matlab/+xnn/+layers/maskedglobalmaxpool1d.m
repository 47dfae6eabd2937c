function Y = maskedglobalmaxpool1d(L, xs, N)
%XNN.LAYERS.MASKEDGLOBALMAXPOOL1D  Max over valid steps (mask > 0.5); zeros when none is valid.
in = double(L.in_shapes{1}(:)');
X = reshape(xs{1}, N, in(1), in(2));
valid = reshape(xs{2}, N, in(1)) > 0.5;
X(repmat(~valid, [1 1 in(2)])) = -Inf;
Y = reshape(max(X, [], 2), N, in(2));
Y(~any(valid, 2), :) = 0;
end
