function [net, ok] = importOnnx(file, model)
%XNN.IMPORTONNX  Import an ONNX file written by xnn and compare it with the reference data of the
%   same model's .mat file; both come from one export:
%     xnn export RUN --onnx model.onnx --mat model.mat     (in a shell)
%     [net, ok] = xnn.importOnnx('model.onnx', xnn.load('model.mat'))
%
%   Needs MATLAB R2023b+ (importNetworkFromONNX) with Deep Learning Toolbox and the free support
%   package "Deep Learning Toolbox Converter for ONNX Model Format". xnn's ONNX graphs take and
%   return channels-last batches (N, ...), declared here as 'BC', 'BTC', 'BSC' or 'BSSC'.
%   Not available in GNU Octave.
if ~xnn.util.hasdlt() || ~exist('importNetworkFromONNX', 'file')
  error('xnn:importOnnx', ['xnn.importOnnx needs MATLAB R2023b+ with Deep Learning Toolbox and the ' ...
        'ONNX converter support package (importNetworkFromONNX)']);
end
try
  net = importNetworkFromONNX(file, 'InputDataFormats', onnxfmt(model.input_format), ...
                              'OutputDataFormats', onnxfmt(model.output_format));
catch err
  error('xnn:importOnnx', 'importNetworkFromONNX failed on %s: %s', file, err.message);
end
ok = xnn.util.checknet(net, model, 'xnn.importOnnx');
end

function s = onnxfmt(fmt)
% dlarray labels -> the ONNX tensor's axis order (batch first, channels last)
switch fmt
  case 'CB', s = 'BC';
  case 'CBT', s = 'BTC';
  otherwise, s = ['B' fmt(1:end - 2) 'C'];
end
end
