"""One Keras lowering per layer kind; each module registers itself."""
