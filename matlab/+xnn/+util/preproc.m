function A = preproc(model, A, op)
%XNN.UTIL.PREPROC  The run's fitted preprocessing stored in the file (model.preprocess):
%   op 'apply_x':   (X - x_shift) ./ x_scale     raw inputs -> the model's inputs
%   op 'raw_x':     X .* x_scale + x_shift       its inverse (xnn.compare on raw inputs)
%   op 'inverse_y': Y .* y_scale + y_shift       model outputs -> target units (y standardize)
%   Shifts and scales are shaped to broadcast against dlarray-order arrays (C x 1 for CB/CBT,
%   1 x C for SCB, 1 x 1 x C for SSCB). Methods 'none' (and 'onehot' for y) change nothing.
if ~xnn.util.hasprep(model)
  error('xnn:preprocess', ['%s holds no preprocessing (written from a spec rather than a run, or by ' ...
        'an older xnn): export the run again with xnn export RUN --mat FILE'], model.spec_name);
end
P = model.preprocess;
switch op
  case 'apply_x'
    if ~strcmp(P.x_method, 'none'), A = (double(A) - P.x_shift) ./ P.x_scale; end
  case 'raw_x'
    if ~strcmp(P.x_method, 'none'), A = double(A) .* P.x_scale + P.x_shift; end
  case 'inverse_y'
    if strcmp(P.y_method, 'standardize'), A = double(A) .* P.y_scale + P.y_shift; end
  otherwise
    error('xnn:preprocess', 'xnn.util.preproc: unknown op %s', op);
end
end
