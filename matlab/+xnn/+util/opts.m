function [o, given] = opts(args, defaults, fn)
%XNN.UTIL.OPTS  Name-value pairs ('Name', value, ...) -> struct o, with defaults (a struct) for
%   the names not passed; given.<name> is true for the names passed. Names are case-insensitive;
%   an unknown name or an odd count is an error naming fn. Plain M (MATLAB and Octave).
o = defaults;
names = fieldnames(defaults);
given = struct();
for i = 1:numel(names), given.(names{i}) = false; end
if mod(numel(args), 2) ~= 0
  error('xnn:options', '%s: options come in ''Name'', value pairs', fn);
end
for i = 1:2:numel(args)
  k = args{i};
  j = [];
  if ischar(k), j = find(strcmpi(names, k), 1); end
  if isempty(j)
    if ischar(k), shown = k; else, shown = class(k); end
    error('xnn:options', '%s: unknown option ''%s'' (known: %s)', fn, shown, strjoin(names', ', '));
  end
  o.(names{j}) = args{i + 1};
  given.(names{j}) = true;
end
end
