function Y = spatialdropout1d(L, xs, N)
%XNN.LAYERS.SPATIALDROPOUT1D  The identity (evaluation mode).
Y = xs{1};
end
