function model = load(file)
%XNN.LOAD  Read a model .mat file written by xnn (`xnn export RUN --mat model.mat`) into a struct.
%   model = xnn.load(file)
%
%   Plain M: runs on MATLAB R2019b+ and GNU Octave 7+ (needs jsondecode). No toolbox.
%   The file must be MAT v7 (or v6); MATLAB also reads v7.3, Octave cannot.
%   In Octave, call warning('off', 'Octave:shadowed-function') before addpath: +xnn/load.m and
%   +xnn/save.m share the builtins' names (the package only calls them as xnn.load / xnn.save).
%   model fields: every variable of docs/mat-format.md (xnn_format, spec_json, dtype,
%   input_format, output_format, layers, ref_input, ref_output, preprocess when the file has
%   it, ...) plus
%     spec    the decoded spec (jsondecode of spec_json)
%     file    the file read
%   and, in each model.layers{i}: fields (decoded fields_json), export (decoded export_json).
%   The model's output is the last entry of model.layers. Next: xnn.compare(model),
%   xnn.predict(model, X [, 'preprocess', true]).
if ~(ischar(file) && exist(file, 'file'))
  error('xnn:load', 'xnn.load: no such file: %s', char(file));
end
S = load(file);  % the builtin: package functions are only reached by their full name
if ~isfield(S, 'xnn_format')
  error('xnn:load', 'xnn.load: %s is not an xnn .mat file (no xnn_format variable)', file);
end
if double(S.xnn_format) ~= 1
  error('xnn:load', 'xnn.load: %s has format %d; this +xnn reads format 1', file, double(S.xnn_format));
end
need = {'spec_json', 'dtype', 'input_format', 'output_format', 'layers', 'input_shape'};
for i = 1:numel(need)
  if ~isfield(S, need{i})
    error('xnn:load', 'xnn.load: %s lacks the variable %s', file, need{i});
  end
end
model = S;
model.file = file;
model.spec = jsondecode(S.spec_json);
for i = 1:numel(model.layers)
  L = model.layers{i};
  L.fields = jsondecode(L.fields_json);
  L.export = jsondecode(L.export_json);
  if ~iscell(L.inputs), L.inputs = {L.inputs}; end
  if ~iscell(L.in_shapes), L.in_shapes = {L.in_shapes}; end
  model.layers{i} = L;
end
end
