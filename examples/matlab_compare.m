% matlab_compare.m - check an xnn model in MATLAB or GNU Octave, end to end.
%
%   In a shell, with xnn installed (a spec's initial weights here; a trained run exports the same
%   way, with its preprocessing: xnn export RUN --mat model.mat):
%     xnn export examples/iris_mlp.yaml --mat model.mat
%   then in MATLAB (R2019b+) or Octave (7+), from any folder:
%     file = fullfile(pwd, 'model.mat');          % absolute: run() changes folder while it runs
%     run('<xnn checkout>/examples/matlab_compare.m')
%   or, with the examples folder on the path (the current folder stays):
%     addpath('<xnn checkout>/examples'); file = 'model.mat'; matlab_compare
%
% The script finds the +xnn package itself (../matlab next to this file), so no addpath of it is
% needed. It loads the model, runs the plain-M forward pass on the stored reference input and
% compares it with xnn's output (and, when the file holds the run's preprocessing, once more from
% raw inputs with 'preprocess' on); with Deep Learning Toolbox it also builds a dlnetwork (which
% checks itself against the same reference) and writes its weights back to
% model_from_matlab.mat next to the model file, which `xnn import model_from_matlab.mat --out DIR`
% reads.
here = fileparts(mfilename('fullpath'));
if exist('OCTAVE_VERSION', 'builtin') > 0
  warning('off', 'Octave:shadowed-function');  % +xnn/load.m and save.m share builtin names
end
addpath(fullfile(here, '..', 'matlab'));       % the folder that holds +xnn
if ~exist('file', 'var'), file = 'model.mat'; end
if ~exist(file, 'file')
  error(['matlab_compare: no file %s in %s; set file to an absolute path before run(...) ' ...
         '(run changes to the script''s folder while it runs), e.g. file = fullfile(pwd, ''model.mat'')'], ...
        file, pwd);
end
model = xnn.load(file);
fprintf('%s: %d layers, input %s [%s], output %s\n', model.spec_name, numel(model.layers), ...
        model.input_format, num2str(double(model.input_shape(:)')), model.output_format);
ok = xnn.compare(model);
if ~ok, error('the plain-M forward pass does not match xnn''s reference output'); end
if isfield(model, 'preprocess')
  ok = xnn.compare(model, 'preprocess', true);
  if ~ok, error('the stored preprocessing does not reproduce xnn''s reference output'); end
end
if xnn.util.hasdlt()
  net = xnn.toDlnetwork(model);           % errors if MATLAB cannot express a layer exactly
  model = xnn.fromDlnetwork(net, model);  % e.g. after fine-tuning net with trainnet / a custom loop
  out = fullfile(fileparts(file), 'model_from_matlab.mat');
  xnn.save(model, out);
  fprintf('wrote %s (xnn import %s --out DIR)\n', out, out);
else
  fprintf('no Deep Learning Toolbox here: skipped xnn.toDlnetwork\n');
end
