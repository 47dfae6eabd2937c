function [blk, outname, problem] = upsampling1d(L, infmt) %#ok<INUSD>
%XNN.TOOLBOX.UPSAMPLING1D  UpSampling1D -> Deep Learning Toolbox layer(s), for xnn.toDlnetwork.
%   [blk, outname, problem] = xnn.toolbox.upsampling1d(L, infmt)
%   L: one entry of model.layers (xnn.load); infmt: the dlarray format of its first input.
%   blk: the layer (or a column of layers, the last named outname); problem: '' or why MATLAB
%   has no layer with the same semantics (then blk is empty and nothing is built).
%   resize2dLayer works on 2-D images (SSCB); no documented layer resizes a 1-D signal (SCB):
%   returns the problem, builds nothing.
blk = []; outname = L.name;
problem = 'no documented 1-D resize layer (resize2dLayer takes SSCB images)';
end
