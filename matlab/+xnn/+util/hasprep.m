function [tf, active] = hasprep(model)
%XNN.UTIL.HASPREP  tf: the file holds the run's preprocessing (model.preprocess); active: it
%   changes something (x_method other than 'none', or y_method 'standardize').
tf = isfield(model, 'preprocess') && isstruct(model.preprocess);
active = tf && (~strcmp(model.preprocess.x_method, 'none') || strcmp(model.preprocess.y_method, 'standardize'));
end
