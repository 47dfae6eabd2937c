function y = sigmoid(x)
%XNN.UTIL.SIGMOID  0.5 * (1 + tanh(x / 2)), the form xnn's reference uses (no overflow).
y = 0.5 * (1 + tanh(0.5 * x));
end
