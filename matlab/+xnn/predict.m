function Y = predict(model, X)
%XNN.PREDICT  Plain-M forward pass (evaluation mode) of a model read by xnn.load.
%   Y = xnn.predict(model, X)
%
%   X: a numeric array in MATLAB dlarray order for model.input_format, e.g. H x W x C x N for
%   'SSCB', L x C x N for 'SCB', F x N for 'CB', F x N x T for 'CBT'. Integer inputs (indices
%   for Embedding) are 0-based like xnn's and carry a channel of size 1 (1 x N x T for 'CBT').
%   Y: double, in dlarray order for model.output_format.
%   Computation is in double whatever the stored dtype. Plain M, no toolbox: MATLAB R2019b+
%   and GNU Octave 7+. One file per layer kind in +xnn/+layers.
isint = strncmp(model.input_dtype, 'int', 3);
Xi = xnn.util.fromdl(double(X), model.input_format);
N = size(Xi, 1);
want = [N, double(model.input_shape(:)')];
got = size(Xi);
got(end+1:numel(want)) = 1;
if numel(got) > numel(want) && any(got(numel(want)+1:end) ~= 1) || any(got(1:numel(want)) ~= want)
  error('xnn:predict', 'xnn.predict: X has size [%s]; expected %s order for a per-sample shape [%s] (channels-last)', ...
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
end
