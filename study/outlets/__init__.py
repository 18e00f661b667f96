"""`study tables`: the per-outlet comparison of gold and predicted labels, and lexical framing."""
