"""One torch lowering per layer kind; each module registers itself."""
