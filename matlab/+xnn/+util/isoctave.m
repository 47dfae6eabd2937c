function tf = isoctave()
%XNN.UTIL.ISOCTAVE  True when running in GNU Octave.
tf = exist('OCTAVE_VERSION', 'builtin') > 0;
end
