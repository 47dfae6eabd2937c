function X = fromRows(model, R)
%XNN.FROMROWS  Rows of flat features (N x prod(input_shape)) -> X in the model's dlarray order.
%   X = xnn.fromRows(model, R)
%
%   R(n, :) is sample n flattened the numpy way (x.reshape(N, -1)): row-major over xnn's
%   channels-last per-sample shape, so for an image (H, W, C) column j = h*W*C + w*C + c + 1
%   (0-based h, w, c) and the channel varies fastest. MATLAB's reshape is column-major, so
%   reshape(R, [], H, W, C) scrambles the pixels silently; the rule is
%     X = permute(reshape(R.', [C W H N]), [3 2 1 4])      % H x W x C x N ('SSCB')
%   which this function applies for every input format (CB: R.'; SCB: L x C x N; CBT: F x N x T).
%   Plain M: MATLAB R2019b+ and GNU Octave 7+.
shape = double(model.input_shape(:)');
isint = strncmp(model.input_dtype, 'int', 3);
if isint, shape = [shape 1]; end  % indices carry a channel of size 1
if ~ismatrix(R) || size(R, 2) ~= prod(shape)
  error('xnn:fromRows', 'xnn.fromRows: R has size [%s]; expected N x %d (one flattened sample per row)', ...
        num2str(size(R)), prod(shape));
end
N = size(R, 1);
k = numel(shape);
Xi = permute(reshape(R.', [fliplr(shape) N]), [k + 1, k:-1:1]);  % N x shape, xnn's subscripts
X = xnn.util.todl(Xi, model.input_format);
end
