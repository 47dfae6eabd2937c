function Y = add(L, xs, N)
%XNN.LAYERS.ADD  Elementwise sum of the inputs.
Y = xs{1};
for i = 2:numel(xs), Y = Y + xs{i}; end
end
