function Y = predict(model, X, varargin)
%XNN.PREDICT  Plain-M forward pass (evaluation mode) of a model read by xnn.load.
%   Y = xnn.predict(model, X)
%   Y = xnn.predict(model, X, 'preprocess', true)    % X raw, as the training data was stored
%   Y = xnn.predict(model, X, 'format', S.x_format)  % check X's layout against the model's
%
%   X: a numeric array in MATLAB dlarray order for model.input_format, e.g. H x W x C x N for
%   'SSCB', L x C x N for 'SCB', F x N for 'CB', F x N x T for 'CBT' (a data file written by
%   xnn export --data holds it so: S = load(file); S.x). Integer inputs (indices for Embedding)
%   are 0-based like xnn's and carry a channel of size 1 (1 x N x T for 'CBT').
%   Rows of flat features (N x H*W*C, numpy's x.reshape(N, -1)) go through xnn.fromRows first.
%   Y: double, in dlarray order for model.output_format (class scores: K x N, row k is class k-1).
%
%   'preprocess' (default false): false takes X as the model's own input, i.e. already
%   preprocessed (what ref_input holds, and what the ONNX export takes); true applies the run's
%   fitted preprocessing stored in the file first, (X - x_shift) ./ x_scale, and maps regression
%   outputs back to target units (Y .* y_scale + y_shift for data.y: standardize), as
%   `xnn predict RUN --data FILE` does. When the file holds an active preprocessing and the
%   option is not given, a warning (id xnn:predict:preprocess) says that X was taken as
%   preprocessed.
%   'format': the dlarray labels of X (e.g. S.x_format of a data file); an error unless they are
%   model.input_format.
%   Computation is in double whatever the stored dtype. Plain M, no toolbox: MATLAB R2019b+
%   and GNU Octave 7+. One file per layer kind in +xnn/+layers.
[o, given] = xnn.util.opts(varargin, struct('preprocess', false, 'format', ''), 'xnn.predict');
if ~isempty(o.format) && ~strcmp(o.format, model.input_format)
  error('xnn:predict', 'xnn.predict: X is in %s order; %s takes %s (see docs/mat-format.md, "dlarray formats")', ...
        char(o.format), model.spec_name, model.input_format);
end
[~, active] = xnn.util.hasprep(model);
if active && ~given.preprocess
  warning('xnn:predict:preprocess', ['xnn.predict: %s was trained on preprocessed inputs (x: %s, y: %s); X is taken ' ...
          'as already preprocessed. Pass ''preprocess'', true for raw inputs (or false to silence this)'], ...
          model.spec_name, model.preprocess.x_method, model.preprocess.y_method);
end
isint = strncmp(model.input_dtype, 'int', 3);
if o.preprocess
  X = xnn.util.preproc(model, X, 'apply_x');
end
Xi = xnn.util.fromdl(double(X), model.input_format);
N = size(Xi, 1);
want = [N, double(model.input_shape(:)')];
got = size(Xi);
got(end+1:numel(want)) = 1;
if numel(got) > numel(want) && any(got(numel(want)+1:end) ~= 1) || any(got(1:numel(want)) ~= want)
  error('xnn:predict', ['xnn.predict: X has size [%s]; expected %s order for a per-sample shape [%s] ' ...
        '(channels-last); rows of flat features go through xnn.fromRows(model, R) first'], ...
        num2str(size(X)), model.input_format, num2str(double(model.input_shape(:)')));
end
if isint && any(Xi(:) ~= round(Xi(:)))
  error('xnn:predict', 'xnn.predict: integer input expected (0-based indices)');
end
names = cellfun(@(L) L.name, model.layers, 'UniformOutput', false);
acts = cell(1, numel(model.layers));
for i = 1:numel(model.layers)
  L = model.layers{i};
  xs = cell(1, numel(L.inputs));
  for j = 1:numel(L.inputs)
    if strcmp(L.inputs{j}, 'input')
      xs{j} = Xi;
    else
      xs{j} = acts{find(strcmp(names, L.inputs{j}), 1)};
    end
  end
  acts{i} = feval(['xnn.layers.' lower(L.type)], L, xs, N);  % +layers/<kind>.m, one per kind
end
Y = xnn.util.todl(acts{end}, model.output_format);
if o.preprocess
  Y = xnn.util.preproc(model, Y, 'inverse_y');
end
end
