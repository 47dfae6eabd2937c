function model = fromDlnetwork(net, model)
%XNN.FROMDLNETWORK  Copy the learnables (and BatchNorm statistics) of a dlnetwork built by
%   xnn.toDlnetwork back into the model struct, in the .mat layouts, so xnn.save can write them.
%   model = xnn.fromDlnetwork(net, model)
%
%   Needs MATLAB R2019b+ with Deep Learning Toolbox (net.Learnables / net.State tables with
%   Layer, Parameter, Value columns). Values are cast to the model's stored dtype and keep the
%   stored shapes. Not available in GNU Octave.
if ~xnn.util.hasdlt()
  error('xnn:fromDlnetwork', 'xnn.fromDlnetwork needs MATLAB with Deep Learning Toolbox');
end
for i = 1:numel(model.layers)
  L = model.layers{i};
  w = L.weights; f = fieldnames(w);
  for j = 1:numel(f)
    stored = w.(f{j});
    [layer, param] = source(L, f{j});
    v = value(net, layer, param);
    if strcmp(L.type, 'Dense') && strcmp(param, 'Weights') && ndims(v) > 2
      v = reshape(v, [], size(stored, 1)).';  % built as a 1x1 convolution on images/signals
    end
    if numel(v) ~= numel(stored)
      error('xnn:fromDlnetwork', 'layer %s %s: %d values in the network, %d in the model', ...
            L.name, f{j}, numel(v), numel(stored));
    end
    w.(f{j}) = cast(reshape(v, size(stored)), class(stored));
  end
  L.weights = w;
  model.layers{i} = L;
end
end

function [layer, param] = source(L, field)
layer = L.name; param = field;
if any(strcmp(L.type, {'LSTM', 'GRU'}))  % InputWeights_l0 ... -> sublayer <name>_l0 or <name>
  k = strfind(field, '_l');
  key = field(k + 1:end); param = field(1:k - 1);
  if ~strcmp(key, sprintf('l%d', double(L.fields.num_layers) - 1)), layer = [L.name '_' key]; end
end
end

function v = value(net, layer, param)
tbl = net.Learnables;
if any(strcmp(param, {'TrainedMean', 'TrainedVariance'})), tbl = net.State; end
idx = find(strcmp(tbl.Layer, layer) & strcmp(tbl.Parameter, param), 1);
if isempty(idx)
  error('xnn:fromDlnetwork', 'the network has no %s of layer %s', param, layer);
end
v = tbl.Value{idx};
if isa(v, 'dlarray'), v = extractdata(v); end
v = gather(v);
end
