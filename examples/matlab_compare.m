% matlab_compare.m - check an xnn model in MATLAB or GNU Octave, end to end.
%
%   xnn export runs/demo --format mat --out model.mat      (in a shell, with xnn installed)
%   then, in MATLAB (R2019b+) or Octave (7+), from the folder holding model.mat:
%     addpath('<xnn checkout>/matlab');   % the folder that contains +xnn
%     run('<xnn checkout>/examples/matlab_compare.m')
%
% Loads the model, runs the plain-M forward pass on the stored reference input and compares it
% with xnn's output; with Deep Learning Toolbox it also builds a dlnetwork (which checks itself
% against the same reference) and writes its weights back to model_from_matlab.mat, which
% `xnn import model_from_matlab.mat --out DIR` reads.
if ~exist('file', 'var'), file = 'model.mat'; end
if exist('OCTAVE_VERSION', 'builtin') > 0
  warning('off', 'Octave:shadowed-function');  % +xnn/load.m and save.m share builtin names
end
model = xnn.load(file);
fprintf('%s: %d layers, input %s [%s], output %s\n', model.spec_name, numel(model.layers), ...
        model.input_format, num2str(double(model.input_shape(:)')), model.output_format);
ok = xnn.compare(model);
if ~ok, error('the plain-M forward pass does not match xnn''s reference output'); end
if xnn.util.hasdlt()
  net = xnn.toDlnetwork(model);           % errors if MATLAB cannot express a layer exactly
  model = xnn.fromDlnetwork(net, model);  % e.g. after fine-tuning net with trainnet / a custom loop
  xnn.save(model, 'model_from_matlab.mat');
  fprintf('wrote model_from_matlab.mat (xnn import model_from_matlab.mat --out DIR)\n');
else
  fprintf('no Deep Learning Toolbox here: skipped xnn.toDlnetwork\n');
end
