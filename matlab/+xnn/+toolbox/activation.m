function [blk, outname, problem] = activation(L, infmt) %#ok<INUSD>
%XNN.TOOLBOX.ACTIVATION  Activation -> Deep Learning Toolbox layer(s), for xnn.toDlnetwork.
%   [blk, outname, problem] = xnn.toolbox.activation(L, infmt)
%   L: one entry of model.layers (xnn.load); infmt: the dlarray format of its first input.
%   blk: the layer (or a column of layers, the last named outname); problem: '' or why MATLAB
%   has no layer with the same semantics (then blk is empty and nothing is built).
%   Every fn with a MATLAB layer of the same formula; softmax only over channels; relu6 is
%   clippedReluLayer(6). hard_sigmoid and hard_swish have no Deep Learning Toolbox layer.
f = L.fields; w = L.weights; n = L.name; blk = []; outname = n; problem = ''; %#ok<NASGU>
in = double(L.in_shapes{1}(:)'); %#ok<NASGU>
switch f.fn
  case 'relu', blk = reluLayer('Name', n);
  case 'leaky_relu', blk = leakyReluLayer(f.negative_slope, 'Name', n);
  case 'elu', blk = eluLayer(f.alpha, 'Name', n);
  case 'gelu', blk = geluLayer('Approximation', 'none', 'Name', n);
  case 'gelu_tanh', blk = geluLayer('Approximation', 'tanh', 'Name', n);
  case 'sigmoid', blk = sigmoidLayer('Name', n);
  case 'tanh', blk = tanhLayer('Name', n);
  case 'silu', blk = swishLayer('Name', n);
  case 'relu6', blk = clippedReluLayer(6, 'Name', n);
  case {'hard_sigmoid', 'hard_swish'}
    problem = sprintf('activation %s (built on relu6(x + 3) / 6) has no Deep Learning Toolbox layer', f.fn);
  case 'softmax'
    R = numel(in) + 1; ax = double(f.axis); if ax >= 0, ax = ax - R; end
    if ax == -1, blk = softmaxLayer('Name', n); else, problem = 'softmax over a non-channel axis'; end
  otherwise, problem = sprintf('activation %s has no MATLAB layer', f.fn);
end
end
