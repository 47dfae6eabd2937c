function Y = pool2d(X, k, s, P, op)
%XNN.UTIL.POOL2D  Max or average pooling on internal N x H x W x C data.
%   Max pads with -Inf; average divides by the number of real (unpadded) cells in each window
%   (xnn/Keras 'same' semantics). k, s: 1 x 2; P: 2 x 2 pads.
[N, H, Wd, C] = size(X);
Hp = H + P(1, 1) + P(1, 2); Wp = Wd + P(2, 1) + P(2, 2);
Ho = floor((Hp - k(1)) / s(1)) + 1; Wo = floor((Wp - k(2)) / s(2)) + 1;
fill = 0;
if strcmp(op, 'max'), fill = -Inf; end
Xp = fill * ones(N, Hp, Wp, C);
Xp(:, P(1, 1) + (1:H), P(2, 1) + (1:Wd), :) = X;
M = zeros(1, Hp, Wp);
M(1, P(1, 1) + (1:H), P(2, 1) + (1:Wd)) = 1;
if strcmp(op, 'max'), Y = -Inf(N, Ho, Wo, C); else, Y = zeros(N, Ho, Wo, C); end
cnt = zeros(1, Ho, Wo);
for i = 1:k(1)
  rows = i + (0:Ho - 1) * s(1);
  for j = 1:k(2)
    cols = j + (0:Wo - 1) * s(2);
    if strcmp(op, 'max')
      Y = max(Y, Xp(:, rows, cols, :));
    else
      Y = Y + Xp(:, rows, cols, :);
      cnt = cnt + M(1, rows, cols);
    end
  end
end
if ~strcmp(op, 'max')
  Y = Y ./ cnt;
end
end
