function Y = rnn(L, xs, N, kind)
%XNN.UTIL.RNN  Shared recurrence of xnn.layers.lstm and xnn.layers.gru (not a layer kind).
%   Inputs: x (N x T x F), then an optional mask (N x T, 1 = valid prefix), then with
%   initial_state an N x S state. output: 'sequences' | 'last' | 'state' (see xnn's _rnn.py).
f = L.fields; w = L.weights;
H = double(f.units); nl = double(f.num_layers);
D = 1; if f.bidirectional, D = 2; end
ns = 1; if strcmp(kind, 'lstm'), ns = 2; end
x = xs{1};
T = size(x, 2);
hasstate = logical(f.initial_state);
hasmask = numel(xs) - 1 - hasstate == 1;
if hasmask
  lens = round(sum(reshape(xs{2}, N, T), 2));
else
  lens = T * ones(N, 1);
end
init = [];
if hasstate, init = reshape(xs{end}, N, H, ns, D, nl); end
sfx = {'', '_reverse'};
inp = x;
finals = {};
for k = 1:nl
  outs = cell(1, D);
  for d = 1:D
    key = sprintf('l%d%s', k - 1, sfx{d});
    Wi = double(w.(['InputWeights_' key])); Wh = double(w.(['RecurrentWeights_' key]));
    b = double(w.(['Bias_' key])(:)).';
    st = cell(1, ns);
    for j = 1:ns
      if isempty(init), st{j} = zeros(N, H); else, st{j} = init(:, :, j, d, k); end
    end
    y = zeros(N, T, H);
    if d == 2, steps = T:-1:1; else, steps = 1:T; end
    for i = steps
      xt = reshape(inp(:, i, :), N, []);
      if strcmp(kind, 'lstm')
        z = xt * Wi.' + st{1} * Wh.' + b;
        c2 = xnn.util.sigmoid(z(:, H + 1:2 * H)) .* st{2} + xnn.util.sigmoid(z(:, 1:H)) .* tanh(z(:, 2 * H + 1:3 * H));
        new = {xnn.util.sigmoid(z(:, 3 * H + 1:4 * H)) .* tanh(c2), c2};
      else
        gi = xt * Wi.' + b(1:3 * H); gh = st{1} * Wh.' + b(3 * H + 1:6 * H);
        r = xnn.util.sigmoid(gi(:, 1:H) + gh(:, 1:H));
        zz = xnn.util.sigmoid(gi(:, H + 1:2 * H) + gh(:, H + 1:2 * H));
        nn = tanh(gi(:, 2 * H + 1:3 * H) + r .* gh(:, 2 * H + 1:3 * H));
        new = {(1 - zz) .* nn + zz .* st{1}};
      end
      valid = double(i <= lens);
      for j = 1:ns
        st{j} = valid .* new{j} + (1 - valid) .* st{j};
      end
      y(:, i, :) = reshape(valid .* st{1}, N, 1, H);
    end
    outs{d} = y;
    finals{end + 1} = st; %#ok<AGROW>
  end
  inp = cat(3, outs{:});
end
nonempty = double(lens > 0);
switch f.output
  case 'sequences'
    if strcmp(f.merge, 'concat') || D == 1, Y = inp; else, Y = outs{1} + outs{2}; end
  case 'last'
    last = cell(1, D);
    for d = 1:D, last{d} = finals{end - D + d}{1}; end
    if strcmp(f.merge, 'concat'), Y = cat(2, last{:}); else, Y = last{1} + last{2}; end
    Y = Y .* nonempty;
  otherwise  % state: (layer, direction, [h, c]) flattened
    A = zeros(N, H, ns, numel(finals));
    for q = 1:numel(finals)
      for j = 1:ns, A(:, :, j, q) = finals{q}{j}; end
    end
    Y = reshape(A, N, []) .* nonempty;
end
end
