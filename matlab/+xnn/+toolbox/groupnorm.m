function [blk, outname, problem] = groupnorm(L, infmt) %#ok<INUSD>
%XNN.TOOLBOX.GROUPNORM  GroupNorm -> Deep Learning Toolbox layer(s), for xnn.toDlnetwork.
%   [blk, outname, problem] = xnn.toolbox.groupnorm(L, infmt)
%   L: one entry of model.layers (xnn.load); infmt: the dlarray format of its first input.
%   blk: the layer (or a column of layers, the last named outname); problem: '' or why MATLAB
%   has no layer with the same semantics (then blk is empty and nothing is built).
%   groupNormalizationLayer(G) (instanceNormalizationLayer for one group per channel on spatial
%   data): per observation over the spatial dimensions and each group of channels. Without
%   affine, Scale 1 and Offset 0 with learn-rate factors 0. Sequences (CBT): whether MATLAB
%   normalizes over T as well is not confirmed here, so a problem.
f = L.fields; w = L.weights; n = L.name; blk = []; outname = n; problem = ''; %#ok<NASGU>
in = double(L.in_shapes{1}(:)'); %#ok<NASGU>
C = in(end); G = double(f.groups);
if G == -1, G = C; end
if strcmp(infmt, 'CBT')
  problem = 'GroupNorm over a sequence (CBT): MATLAB''s time-axis semantics are not confirmed'; return;
end
if isfield(w, 'Scale')
  args = {'Epsilon', double(f.eps), 'Scale', single(w.Scale), 'Offset', single(w.Offset), 'Name', n};
else
  ns = sum(infmt == 'S'); shp = [ones(1, ns), C]; if ns == 0, shp = [C, 1]; end
  args = {'Epsilon', double(f.eps), 'Scale', ones(shp, 'single'), 'Offset', zeros(shp, 'single'), ...
          'ScaleLearnRateFactor', 0, 'OffsetLearnRateFactor', 0, 'Name', n};
end
if G == C && any(infmt == 'S')
  blk = instanceNormalizationLayer(args{:});
else
  blk = groupNormalizationLayer(G, args{:});
end
end
