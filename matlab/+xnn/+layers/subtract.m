function Y = subtract(L, xs, N)
%XNN.LAYERS.SUBTRACT  xs{1} - xs{2} with NumPy broadcasting of the per-sample shapes.
R = max(cellfun(@numel, L.in_shapes));
Y = xnn.util.bcastrank(xs{1}, L.in_shapes{1}, R, N) - xnn.util.bcastrank(xs{2}, L.in_shapes{2}, R, N);
end
