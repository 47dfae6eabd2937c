function Y = maskedglobalavgpool1d(L, xs, N)
%XNN.LAYERS.MASKEDGLOBALAVGPOOL1D  sum_t m_t x_t / max(sum_t m_t, 1): N x T x F, N x T -> N x F.
in = double(L.in_shapes{1}(:)');
X = reshape(xs{1}, N, in(1), in(2));
m = reshape(xs{2}, N, in(1));
Y = reshape(sum(X .* m, 2), N, in(2)) ./ max(sum(m, 2), 1);
end
