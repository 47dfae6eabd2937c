function [blk, outname, problem] = scale(L, infmt) %#ok<INUSD>
%XNN.TOOLBOX.SCALE  Scale -> Deep Learning Toolbox layer(s), for xnn.toDlnetwork.
%   [blk, outname, problem] = xnn.toolbox.scale(L, infmt)
%   L: one entry of model.layers (xnn.load); infmt: the dlarray format of its first input.
%   blk: the layer (or a column of layers, the last named outname); problem: '' or why MATLAB
%   has no layer with the same semantics (then blk is empty and nothing is built).
%   No Deep Learning Toolbox layer multiplies by learned per-element weights and adds a bias
%   (scalingLayer belongs to the Reinforcement Learning Toolbox; a batchNormalizationLayer with
%   mean 0 and variance 1 - Epsilon is not exact): returns the problem, builds nothing.
blk = []; outname = L.name;
problem = 'no Deep Learning Toolbox layer computes X .* Scale + Offset with learned Scale/Offset (use a functionLayer)';
end
