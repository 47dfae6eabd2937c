function [blk, outname, problem] = multiheadattention(L, infmt) %#ok<INUSD>
%XNN.TOOLBOX.MULTIHEADATTENTION  MultiHeadAttention -> Deep Learning Toolbox layer(s), for xnn.toDlnetwork.
%   [blk, outname, problem] = xnn.toolbox.multiheadattention(L, infmt)
%   L: one entry of model.layers (xnn.load); infmt: the dlarray format of its first input.
%   blk: the layer (or a column of layers, the last named outname); problem: '' or why MATLAB
%   has no layer with the same semantics (then blk is empty and nothing is built).
%   selfAttentionLayer (R2023a+): self attention with biases, optionally causal.
f = L.fields; w = L.weights; n = L.name; blk = []; outname = n; problem = ''; %#ok<NASGU>
in = double(L.in_shapes{1}(:)'); %#ok<NASGU>
if numel(L.inputs) > 1
  problem = 'cross attention or a key padding mask input'; return;
end
if ~isfield(w, 'QueryBias'), problem = 'attention without biases'; return; end
args = {'NumValueChannels', size(w.ValueWeights, 1), 'OutputSize', size(w.OutputWeights, 1), ...
        'QueryWeights', single(w.QueryWeights), 'KeyWeights', single(w.KeyWeights), ...
        'ValueWeights', single(w.ValueWeights), 'OutputWeights', single(w.OutputWeights), ...
        'QueryBias', single(w.QueryBias), 'KeyBias', single(w.KeyBias), 'ValueBias', single(w.ValueBias), ...
        'OutputBias', single(w.OutputBias), 'Name', n};
if f.causal, args = [args, {'AttentionMask', 'causal'}]; end
blk = selfAttentionLayer(double(f.num_heads), size(w.QueryWeights, 1), args{:});
end
