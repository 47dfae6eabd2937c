function [blk, outname, problem] = batchnorm(L, infmt) %#ok<INUSD>
%XNN.TOOLBOX.BATCHNORM  BatchNorm -> Deep Learning Toolbox layer(s), for xnn.toDlnetwork.
%   [blk, outname, problem] = xnn.toolbox.batchnorm(L, infmt)
%   L: one entry of model.layers (xnn.load); infmt: the dlarray format of its first input.
%   blk: the layer (or a column of layers, the last named outname); problem: '' or why MATLAB
%   has no layer with the same semantics (then blk is empty and nothing is built).
%   Evaluation mode with the stored running statistics.
f = L.fields; w = L.weights; n = L.name; blk = []; outname = n; problem = ''; %#ok<NASGU>
in = double(L.in_shapes{1}(:)'); %#ok<NASGU>
blk = batchNormalizationLayer('TrainedMean', single(w.TrainedMean), 'TrainedVariance', single(w.TrainedVariance), ...
                              'Scale', single(w.Scale), 'Offset', single(w.Offset), 'Epsilon', double(f.eps), 'Name', n);
end
