function [blk, outname, problem] = tbrnn(L, cellname)
%XNN.UTIL.TBRNN  LSTM/GRU -> a column of lstmLayer/gruLayer, one per stacked layer
%   (xnn.toolbox.lstm/gru call this; MATLAB toolbox only). cellname: 'lstm' | 'gru'.
f = L.fields; w = L.weights; n = L.name; blk = []; outname = n; problem = '';
nl = double(f.num_layers); Hh = double(f.units);
if f.bidirectional || f.initial_state || numel(L.inputs) > 1 || strcmp(f.output, 'state')
  problem = 'bidirectional, masked or stateful recurrences, or output: state'; return;
end
for k = 1:nl
  key = sprintf('l%d', k - 1);
  mode = 'sequence'; nm = sprintf('%s_%s', n, key);
  if k == nl, nm = n; if strcmp(f.output, 'last'), mode = 'last'; end, end
  Wi = single(w.(['InputWeights_' key])); Wr = single(w.(['RecurrentWeights_' key])); b = single(w.(['Bias_' key]));
  if strcmp(cellname, 'lstm')
    l = lstmLayer(Hh, 'OutputMode', mode, 'InputWeights', Wi, 'RecurrentWeights', Wr, 'Bias', b, 'Name', nm);
  else
    l = gruLayer(Hh, 'OutputMode', mode, 'ResetGateMode', 'recurrent-bias-after-multiplication', ...
                 'InputWeights', Wi, 'RecurrentWeights', Wr, 'Bias', b, 'Name', nm);
  end
  blk = [blk; l]; %#ok<AGROW>
end
end
