"""Parallel training on TensorFlow's own engine: MirroredStrategy / MultiWorkerMirroredStrategy
(sync, a custom ``strategy.run`` loop around the Trainer's pieces), ParameterServerStrategy with a
ClusterCoordinator (async), and ``tf.device`` stage placement with microbatches (model parallel).

TF must be configured before it initialises: call :func:`logical_cpus` first in a fresh process.
"""
