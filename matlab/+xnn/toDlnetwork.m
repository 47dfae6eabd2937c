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
%   Name-value pairs use the quoted 'Name',Value form (every release).
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
  [blocks{i}, outs{i}, p] = mapLayer(L, infmt);
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

function [blk, outname, problem] = mapLayer(L, infmt)
f = L.fields; w = L.weights; n = L.name; blk = []; outname = n; problem = '';
in = double(L.in_shapes{1}(:)');
sg = @(x) single(x);
switch L.type
  case 'Dense'
    W = sg(w.Weights); o = size(W, 1);
    if isfield(w, 'Bias'), b = sg(w.Bias(:)); lr = 1; else, b = zeros(o, 1, 'single'); lr = 0; end
    switch infmt
      case {'CB', 'CBT'}
        blk = fullyConnectedLayer(o, 'Weights', W, 'Bias', b, 'BiasLearnRateFactor', lr, 'Name', n);
      case 'SSCB'  % Dense on the channel axis of an image = a 1x1 convolution
        blk = convolution2dLayer([1 1], o, 'Weights', reshape(W.', 1, 1, [], o), 'Bias', reshape(b, 1, 1, o), ...
                                 'BiasLearnRateFactor', lr, 'Name', n);
      case 'SCB'
        blk = convolution1dLayer(1, o, 'Weights', reshape(W.', 1, [], o), 'Bias', reshape(b, 1, o), ...
                                 'BiasLearnRateFactor', lr, 'Name', n);
      otherwise, problem = sprintf('Dense on %s data', infmt);
    end
  case {'Conv2D', 'Conv1D'}
    nd = 2; if strcmp(L.type, 'Conv1D'), nd = 1; end
    k = xnn.util.tup(f.kernel_size, nd); s = xnn.util.tup(f.strides, nd); d = xnn.util.tup(f.dilation, nd);
    P = xnn.util.pads(f.padding, in(1:nd), k, s, d);
    G = double(f.groups); F = double(f.filters);
    W = sg(w.Weights);
    if isfield(w, 'Bias'), b = sg(w.Bias); lr = 1; else, b = []; lr = 0; end
    if nd == 2 && G == 1
      if isempty(b), b = zeros(1, 1, F, 'single'); end
      blk = convolution2dLayer(k, F, 'Stride', s, 'DilationFactor', d, 'Padding', [P(1, :) P(2, :)], ...
                               'Weights', W, 'Bias', b, 'BiasLearnRateFactor', lr, 'Name', n);
    elseif nd == 2
      if isempty(b), b = zeros(1, 1, F / G, G, 'single'); end
      blk = groupedConvolution2dLayer(k, F / G, G, 'Stride', s, 'DilationFactor', d, 'Padding', [P(1, :) P(2, :)], ...
                                      'Weights', W, 'Bias', b, 'BiasLearnRateFactor', lr, 'Name', n);
    elseif G == 1 && strcmp(infmt, 'SCB')
      if isempty(b), b = zeros(1, F, 'single'); end
      blk = convolution1dLayer(k, F, 'Stride', s, 'DilationFactor', d, 'Padding', P(1, :), ...
                               'Weights', W, 'Bias', b, 'BiasLearnRateFactor', lr, 'Name', n);
    else
      problem = 'grouped 1-D convolution has no MATLAB layer';
    end
  case 'Activation'
    switch f.fn
      case 'relu', blk = reluLayer('Name', n);
      case 'leaky_relu', blk = leakyReluLayer(f.negative_slope, 'Name', n);
      case 'elu', blk = eluLayer(f.alpha, 'Name', n);
      case 'gelu', blk = geluLayer('Approximation', 'none', 'Name', n);
      case 'gelu_tanh', blk = geluLayer('Approximation', 'tanh', 'Name', n);
      case 'sigmoid', blk = sigmoidLayer('Name', n);
      case 'tanh', blk = tanhLayer('Name', n);
      case 'silu', blk = swishLayer('Name', n);
      case 'softmax'
        R = numel(in) + 1; ax = double(f.axis); if ax >= 0, ax = ax - R; end
        if ax == -1, blk = softmaxLayer('Name', n); else, problem = 'softmax over a non-channel axis'; end
    end
  case {'MaxPool2D', 'MaxPool1D', 'AvgPool2D', 'AvgPool1D'}
    nd = 2; if strcmp(L.type(end - 1:end), '1D'), nd = 1; end
    k = xnn.util.tup(f.pool_size, nd);
    if isempty(f.strides), s = k; else, s = xnn.util.tup(f.strides, nd); end
    P = xnn.util.pads(f.padding, in(1:nd), k, s, ones(1, nd));
    pv = reshape(P.', 1, []);
    if strncmp(L.type, 'Avg', 3) && any(pv)
      problem = ['MATLAB''s average pooling counts padded cells in the mean, xnn (Keras ''same'') ' ...
                 'excludes them; this layer pads its input'];
    elseif nd == 2 && L.type(1) == 'M'
      blk = maxPooling2dLayer(k, 'Stride', s, 'Padding', pv, 'Name', n);
    elseif nd == 2
      blk = averagePooling2dLayer(k, 'Stride', s, 'Name', n);
    elseif L.type(1) == 'M'
      blk = maxPooling1dLayer(k, 'Stride', s, 'Padding', pv, 'Name', n);
    else
      blk = averagePooling1dLayer(k, 'Stride', s, 'Name', n);
    end
  case {'GlobalAvgPool2D', 'GlobalAvgPool1D'}
    if L.type(end - 1) == '2', g = globalAveragePooling2dLayer('Name', n); else, g = globalAveragePooling1dLayer('Name', n); end
    blk = [g; flattenLayer('Name', [n '_flatten'])];  % xnn's output is (N, C): CB
    outname = [n '_flatten'];
  case 'Flatten'
    if strcmp(L.export.order, 'column') || numel(in) == 1
      if strcmp(infmt, 'CBT'), problem = 'flattening time steps'; else, blk = flattenLayer('Name', n); end
    else
      problem = 'xnn''s row-major (H, W, C) flatten feeds a layer other than Dense (MATLAB flattens column-major)';
    end
  case 'BatchNorm'
    blk = batchNormalizationLayer('TrainedMean', sg(w.TrainedMean), 'TrainedVariance', sg(w.TrainedVariance), ...
                                  'Scale', sg(w.Scale), 'Offset', sg(w.Offset), 'Epsilon', double(f.eps), 'Name', n);
  case 'LayerNorm'
    if any(infmt == 'S')
      blk = layerNormalizationLayer('Epsilon', double(f.eps), 'Scale', sg(w.Scale), 'Offset', sg(w.Offset), ...
                                    'OperationDimension', 'channel-only', 'Name', n);
    else
      blk = layerNormalizationLayer('Epsilon', double(f.eps), 'Scale', sg(w.Scale), 'Offset', sg(w.Offset), 'Name', n);
    end
  case 'Dropout'
    blk = dropoutLayer(double(f.rate), 'Name', n);
  case 'Add'
    blk = additionLayer(numel(L.inputs), 'Name', n);
  case 'Concatenate'
    rank = numel(in); ax = double(f.axis); if ax >= 0, ax = ax - (rank + 1); end
    a = ax + rank + 1;  % 1-based per-sample axis
    if strcmp(infmt, 'CBT'), dims = [3 1]; else, dims = 1:rank; end
    blk = concatenationLayer(dims(a), numel(L.inputs), 'Name', n);
  case 'MultiHeadAttention'
    if numel(L.inputs) > 1
      problem = 'cross attention or a key padding mask input';
    else
      H = double(f.num_heads);
      args = {'NumValueChannels', size(w.ValueWeights, 1), 'OutputSize', size(w.OutputWeights, 1), ...
              'QueryWeights', sg(w.QueryWeights), 'KeyWeights', sg(w.KeyWeights), ...
              'ValueWeights', sg(w.ValueWeights), 'OutputWeights', sg(w.OutputWeights), 'Name', n};
      if isfield(w, 'QueryBias')
        args = [args, {'QueryBias', sg(w.QueryBias), 'KeyBias', sg(w.KeyBias), 'ValueBias', sg(w.ValueBias), ...
                       'OutputBias', sg(w.OutputBias)}];
      else
        problem = 'attention without biases';
      end
      if f.causal, args = [args, {'AttentionMask', 'causal'}]; end
      if isempty(problem), blk = selfAttentionLayer(H, size(w.QueryWeights, 1), args{:}); end
    end
  case {'LSTM', 'GRU'}
    nl = double(f.num_layers); Hh = double(f.units);
    if f.bidirectional || f.initial_state || numel(L.inputs) > 1 || strcmp(f.output, 'state')
      problem = 'bidirectional, masked or stateful recurrences, or output: state';
    else
      for k = 1:nl
        key = sprintf('l%d', k - 1);
        mode = 'sequence'; nm = sprintf('%s_%s', n, key);
        if k == nl, nm = n; if strcmp(f.output, 'last'), mode = 'last'; end, end
        Wi = sg(w.(['InputWeights_' key])); Wr = sg(w.(['RecurrentWeights_' key])); b = sg(w.(['Bias_' key]));
        if strcmp(L.type, 'LSTM')
          l = lstmLayer(Hh, 'OutputMode', mode, 'InputWeights', Wi, 'RecurrentWeights', Wr, 'Bias', b, 'Name', nm);
        else
          l = gruLayer(Hh, 'OutputMode', mode, 'ResetGateMode', 'recurrent-bias-after-multiplication', ...
                       'InputWeights', Wi, 'RecurrentWeights', Wr, 'Bias', b, 'Name', nm);
        end
        blk = [blk; l]; %#ok<AGROW>
      end
    end
  otherwise
    problem = 'no built-in MATLAB layer with the same semantics';
end
end
