function Y = reshape(L, xs, N)
%XNN.LAYERS.RESHAPE  Reshape: row-major over the channels-last layout.
%   A package function: xnn.layers.reshape never shadows the builtin reshape, which other code
%   calls unqualified (GNU Octave still warns Octave:shadowed-function when the folder is added).
Y = xnn.util.rowreshape(xs{1}, N, double(L.out_shape(:)'));
end
