function [ok, maxabs, rel] = compare(model, varargin)
%XNN.COMPARE  Run xnn.predict on the stored reference input and compare with the stored output.
%   [ok, maxabs, rel] = xnn.compare(model)
%   [ok, maxabs, rel] = xnn.compare(model, 'preprocess', true)
%
%   Prints one line: max abs error, relative error rel = max|Y - ref_output| / max(1, max|ref_output|)
%   and PASS or FAIL. PASS needs rel <= 1e-10: the reference output was computed by xnn in double
%   from exactly the stored (dtype-rounded) weights and input, and this forward pass computes in
%   double too, so they agree to ~1e-15 for float32 and float64 models alike; a wrong formula
%   (BatchNorm without its eps moves outputs by ~eps/(2 var), e.g. 5e-6) fails.
%   'preprocess' (default false, as in xnn.predict): true checks the stored preprocessing as
%   well: the reference input is mapped back to raw inputs (ref_input .* x_scale + x_shift), run
%   through xnn.predict(model, raw, 'preprocess', true), and compared with the reference output
%   in target units (ref_output .* y_scale + y_shift for y standardize).
%   Plain M: MATLAB R2019b+ and GNU Octave 7+.
TOL = 1e-10;
o = xnn.util.opts(varargin, struct('preprocess', false), 'xnn.compare');
R = double(model.ref_output);
if o.preprocess
  Y = xnn.predict(model, xnn.util.preproc(model, model.ref_input, 'raw_x'), 'preprocess', true);
  R = xnn.util.preproc(model, R, 'inverse_y');
  what = ' (raw inputs, preprocess on)';
else
  Y = xnn.predict(model, model.ref_input, 'preprocess', false);
  what = '';
end
if ~isequal(size(Y), size(R))
  ok = false; maxabs = Inf; rel = Inf;
  fprintf('xnn.compare %s%s: size [%s] vs reference [%s]: FAIL\n', model.spec_name, what, num2str(size(Y)), num2str(size(R)));
  return;
end
d = abs(Y(:) - R(:));
maxabs = max([0; d]);
rel = maxabs / max([1; abs(R(:))]);
ok = all(isfinite(Y(:))) && rel <= TOL;
status = 'FAIL';
if ok, status = 'PASS'; end
fprintf('xnn.compare %s%s: max abs err %.3e, rel err %.3e (tol %.0e): %s\n', model.spec_name, what, maxabs, rel, TOL, status);
end
