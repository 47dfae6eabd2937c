function [blk, outname, problem] = subtract(L, infmt) %#ok<INUSD>
%XNN.TOOLBOX.SUBTRACT  Subtract -> Deep Learning Toolbox layer(s), for xnn.toDlnetwork.
%   [blk, outname, problem] = xnn.toolbox.subtract(L, infmt)
%   L: one entry of model.layers (xnn.load); infmt: the dlarray format of its first input.
%   blk: the layer (or a column of layers, the last named outname); problem: '' or why MATLAB
%   has no layer with the same semantics (then blk is empty and nothing is built).
%   Deep Learning Toolbox has no subtraction layer (additionLayer only adds); a functionLayer
%   could subtract (R2021b+) but how it keeps dlarray formats is not confirmed here: a problem.
f = L.fields; w = L.weights; n = L.name; blk = []; outname = n; problem = ''; %#ok<NASGU>
in = double(L.in_shapes{1}(:)'); %#ok<NASGU>
problem = 'Deep Learning Toolbox has no subtraction layer';
end
