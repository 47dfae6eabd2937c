function Y = conv2d(X, W5, b, s, d, P)
%XNN.UTIL.CONV2D  Grouped 2-D convolution on internal N x H x W x C data.
%   W5: kh x kw x Cg x Fg x G (MATLAB grouped layout; G = 1 is convolution2dLayer's h x w x C x F)
%   b: [] or Fg*G values (channel (g-1)*Fg + f); s, d: 1 x 2 stride, dilation; P: 2 x 2 pads.
[N, H, Wd, C] = size(X);
kh = size(W5, 1); kw = size(W5, 2); Cg = size(W5, 3); Fg = size(W5, 4); G = size(W5, 5);
if C ~= Cg * G
  error('xnn:conv', 'conv: input has %d channels, the weights expect %d', C, Cg * G);
end
Xp = zeros(N, H + P(1, 1) + P(1, 2), Wd + P(2, 1) + P(2, 2), C);
Xp(:, P(1, 1) + (1:H), P(2, 1) + (1:Wd), :) = X;
Ho = floor((size(Xp, 2) - d(1) * (kh - 1) - 1) / s(1)) + 1;
Wo = floor((size(Xp, 3) - d(2) * (kw - 1) - 1) / s(2)) + 1;
Y = zeros(N * Ho * Wo, Fg * G);
for g = 1:G
  ci = (g - 1) * Cg + (1:Cg);
  acc = zeros(N * Ho * Wo, Fg);
  for i = 1:kh
    rows = (i - 1) * d(1) + 1 + (0:Ho - 1) * s(1);
    for j = 1:kw
      cols = (j - 1) * d(2) + 1 + (0:Wo - 1) * s(2);
      patch = reshape(Xp(:, rows, cols, ci), N * Ho * Wo, Cg);
      acc = acc + patch * reshape(W5(i, j, :, :, g), Cg, Fg);
    end
  end
  Y(:, (g - 1) * Fg + (1:Fg)) = acc;
end
Y = reshape(Y, N, Ho, Wo, Fg * G);
if ~isempty(b)
  Y = Y + reshape(b, 1, 1, 1, []);
end
end
