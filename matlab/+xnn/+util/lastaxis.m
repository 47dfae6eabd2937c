function v = lastaxis(v, R)
%XNN.UTIL.LASTAXIS  A vector shaped to broadcast along dim R (the channel axis of a rank-R batch).
v = reshape(double(v), [ones(1, R - 1), numel(v)]);
if R == 1, v = v(:); end
end
