function [ok, rel] = checknet(net, model, what)
%XNN.UTIL.CHECKNET  predict(net) on the stored reference input against the stored output
%   (MATLAB + Deep Learning Toolbox). Tolerance fixed: rel <= 1e-4 (the network runs in single).
TOL = 1e-4;
X = dlarray(single(model.ref_input), model.input_format);
Y = predict(net, X);
Y = double(gather(extractdata(Y)));
R = double(model.ref_output);
if numel(Y) ~= numel(R)
  ok = false; rel = Inf;
  fprintf('%s %s: output has %d values, the reference %d: FAIL\n', what, model.spec_name, numel(Y), numel(R));
  return;
end
Y = reshape(Y, size(R));
maxabs = max([0; abs(Y(:) - R(:))]);
rel = maxabs / max([1; abs(R(:))]);
ok = rel <= TOL;
status = 'FAIL';
if ok, status = 'PASS'; end
fprintf('%s %s: max abs err %.3e, rel err %.3e (tol %.0e): %s\n', what, model.spec_name, maxabs, rel, TOL, status);
end
