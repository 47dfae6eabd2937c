function [ok, maxabs, rel] = compare(model)
%XNN.COMPARE  Run xnn.predict on the stored reference input and compare with the stored output.
%   [ok, maxabs, rel] = xnn.compare(model)
%
%   Prints one line: max abs error, relative error (max abs / max(1, max |ref_output|)) and
%   PASS or FAIL. The tolerance is fixed: rel <= 1e-4, float32 scale, since weights are stored
%   in the model's dtype (the reference output was computed in double from those stored values).
%   Plain M: MATLAB R2019b+ and GNU Octave 7+.
TOL = 1e-4;
Y = xnn.predict(model, model.ref_input);
R = double(model.ref_output);
if ~isequal(size(Y), size(R))
  ok = false; maxabs = Inf; rel = Inf;
  fprintf('xnn.compare %s: size [%s] vs reference [%s]: FAIL\n', model.spec_name, num2str(size(Y)), num2str(size(R)));
  return;
end
d = abs(Y(:) - R(:));
maxabs = max([0; d]);
rel = maxabs / max([1; abs(R(:))]);
ok = all(isfinite(Y(:))) && rel <= TOL;
status = 'FAIL';
if ok, status = 'PASS'; end
fprintf('xnn.compare %s: max abs err %.3e, rel err %.3e (tol %.0e): %s\n', model.spec_name, maxabs, rel, TOL, status);
end
