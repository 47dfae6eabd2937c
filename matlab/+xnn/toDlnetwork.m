function net = toDlnetwork(model)
%XNN.TODLNETWORK  Build a Deep Learning Toolbox dlnetwork with the model's weights set.
%   net = xnn.toDlnetwork(model)      % model from xnn.load
%
%   Needs MATLAB with Deep Learning Toolbox: R2019b+ for dlnetwork/layerGraph; R2021b+ for
%   convolution1dLayer, pooling 1-D layers; R2022b+ for geluLayer; R2023a+ for
%   selfAttentionLayer; R2023b+ for inputLayer (SCB signal inputs). GNU Octave has no toolbox:
%   there it stops with an error (use xnn.predict and xnn.compare instead).
%
%   Exact or nothing: a pre-flight pass maps every layer first and stops with an error naming
%   each layer MATLAB cannot express with the same semantics (e.g. average pooling with padding:
%   MATLAB counts padded cells, xnn excludes them; xnn's row-major Flatten feeding a non-Dense;
%   Reshape; masks; bidirectional or stateful recurrences; Embedding's 0-based indices). After
%   building, the network is run on the stored reference input and must match the stored output
%   (rel <= 1e-4) or this function errors: never a silently different network.
%   Name-value pairs use the quoted 'Name',Value form (every release). Each layer kind's mapping
%   is its own file, +xnn/+toolbox/<kind>.m.
if ~xnn.util.hasdlt()
  error('xnn:toDlnetwork', ['xnn.toDlnetwork needs MATLAB with Deep Learning Toolbox, which is not ' ...
        'available here (GNU Octave has none); xnn.predict runs the model without it']);
end
n = numel(model.layers);
names = cellfun(@(L) L.name, model.layers, 'UniformOutput', false);
fmts = cellfun(@(L) L.out_format, model.layers, 'UniformOutput', false);
blocks = cell(1, n); outs = cell(1, n); problems = {};
[inl, p] = inputFor(model);
if ~isempty(p), problems{end + 1} = sprintf('input: %s', p); end
for i = 1:n
  L = model.layers{i};
  infmt = model.input_format;
  if ~strcmp(L.inputs{1}, 'input'), infmt = fmts{strcmp(names, L.inputs{1})}; end
  [blocks{i}, outs{i}, p] = feval(['xnn.toolbox.' lower(L.type)], L, infmt);  % +toolbox/<kind>.m
  if ~isempty(p), problems{end + 1} = sprintf('layer %s (%s): %s', L.name, L.type, p); end %#ok<AGROW>
end
if ~isempty(problems)
  error('xnn:toDlnetwork', 'xnn.toDlnetwork: no exact MATLAB equivalent, nothing built:\n  %s', ...
        strjoin(problems, sprintf('\n  ')));
end
lg = layerGraph(inl);
for i = 1:n
  L = model.layers{i};
  lg = addLayers(lg, blocks{i});
  first = blocks{i}(1).Name;
  for j = 1:numel(L.inputs)
    src = 'input';
    if ~strcmp(L.inputs{j}, 'input'), src = outs{strcmp(names, L.inputs{j})}; end
    dst = first;
    if numel(L.inputs) > 1, dst = sprintf('%s/in%d', first, j); end
    lg = connectLayers(lg, src, dst);
  end
end
net = dlnetwork(lg);
if ~xnn.util.checknet(net, model, 'xnn.toDlnetwork')
  error('xnn:toDlnetwork', ['xnn.toDlnetwork: the built dlnetwork does not reproduce the stored ' ...
        'reference output; not returning it (please report this with the .mat file)']);
end
end

function [l, problem] = inputFor(model)
l = []; problem = '';
s = double(model.input_shape(:)');
if strncmp(model.input_dtype, 'int', 3)
  problem = 'integer (index) inputs are not mapped (Embedding needs 1-based indices in MATLAB)'; return;
end
switch model.input_format
  case 'CB', l = featureInputLayer(s(1), 'Normalization', 'none', 'Name', 'input');
  case 'SSCB', l = imageInputLayer(s, 'Normalization', 'none', 'Name', 'input');
  case 'CBT', l = sequenceInputLayer(s(2), 'Normalization', 'none', 'MinLength', 1, 'Name', 'input');
  case 'SCB', l = inputLayer([s NaN], 'SCB', 'Name', 'input');
  otherwise, problem = sprintf('input format %s has no input layer', model.input_format);
end
end
