function Y = concatenate(L, xs, N)
%XNN.LAYERS.CONCATENATE  Join along fields.axis (counted on the batched channels-last tensor).
rank = numel(L.in_shapes{1});
ax = double(L.fields.axis);
if ax >= 0, ax = ax - (rank + 1); end
Y = cat(ax + rank + 2, xs{:});
end
