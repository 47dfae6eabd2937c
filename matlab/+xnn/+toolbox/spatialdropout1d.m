function [blk, outname, problem] = spatialdropout1d(L, infmt) %#ok<INUSD>
%XNN.TOOLBOX.SPATIALDROPOUT1D  SpatialDropout1D -> Deep Learning Toolbox layer(s), for xnn.toDlnetwork.
%   [blk, outname, problem] = xnn.toolbox.spatialdropout1d(L, infmt)
%   L: one entry of model.layers (xnn.load); infmt: the dlarray format of its first input.
%   blk: the layer (or a column of layers, the last named outname); problem: '' or why MATLAB
%   has no layer with the same semantics (then blk is empty and nothing is built).
%   dropoutLayer(rate): exact in predict, where both are the identity (the network toDlnetwork
%   builds and checks). Trained in MATLAB it would drop single elements, not whole channels.
f = L.fields; w = L.weights; n = L.name; blk = []; outname = n; problem = ''; %#ok<NASGU>
in = double(L.in_shapes{1}(:)'); %#ok<NASGU>
blk = dropoutLayer(double(f.rate), 'Name', n);
end
