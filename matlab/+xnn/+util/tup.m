function t = tup(v, nd)
%XNN.UTIL.TUP  An int field given as a scalar or a list -> 1 x nd row.
v = double(v(:)');
if numel(v) == 1, t = repmat(v, 1, nd); else, t = v; end
end
