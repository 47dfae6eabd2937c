function Y = dropout(L, xs, N)
%XNN.LAYERS.DROPOUT  The identity (evaluation mode).
Y = xs{1};
end
