function tf = hasdlt()
%XNN.UTIL.HASDLT  True in MATLAB with Deep Learning Toolbox (never in GNU Octave).
tf = false;
if xnn.util.isoctave(), return; end
try
  tf = exist('dlnetwork', 'class') == 8 || exist('dlnetwork', 'file') == 2;
catch
  tf = false;
end
end
