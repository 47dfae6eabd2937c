function save(model, file)
%XNN.SAVE  Write a model struct (weights possibly changed in MATLAB/Octave) back to a .mat file
%   that `xnn import model.mat --out DIR` (xnn.interop.mat.import_mat) reads.
%   xnn.save(model, file)
%
%   Writes MAT v7 (save(...,'-v7')), the layout of docs/mat-format.md. Weights keep their
%   MATLAB layouts (model.layers{i}.weights.<Name>) and must keep their shapes; the stored
%   reference input/output and the run's preprocessing (model.preprocess) are written unchanged
%   (the reference data describe the exported weights; run xnn.compare only on files written by
%   xnn). Plain M: MATLAB R2019b+ and GNU Octave 7+.
keep = {'xnn_format', 'xnn_version', 'created', 'spec_name', 'spec_json', 'dtype', 'input_shape', ...
        'input_dtype', 'input_format', 'output_format', 'ref_input', 'ref_output', ...
        'ref_input_format', 'ref_output_format', 'preprocess'};
S = struct();
for i = 1:numel(keep)
  if isfield(model, keep{i}), S.(keep{i}) = model.(keep{i}); end
end
S.xnn_format = int32(1);
if exist('OCTAVE_VERSION', 'builtin') > 0
  S.saved_by = ['GNU Octave ' OCTAVE_VERSION];
else
  S.saved_by = ['MATLAB ' version];
end
lfields = {'name', 'type', 'inputs', 'fields_json', 'in_shapes', 'out_shape', 'out_format', 'export_json', 'weights'};
layers = cell(numel(model.layers), 1);
for i = 1:numel(model.layers)
  L = model.layers{i};
  R = struct();
  for j = 1:numel(lfields)
    R.(lfields{j}) = L.(lfields{j});
  end
  layers{i} = R;
end
S.layers = layers;
save(file, '-struct', 'S', '-v7');  % the builtin save
end
