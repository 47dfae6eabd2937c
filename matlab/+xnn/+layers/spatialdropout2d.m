function Y = spatialdropout2d(L, xs, N)
%XNN.LAYERS.SPATIALDROPOUT2D  The identity (evaluation mode).
Y = xs{1};
end
