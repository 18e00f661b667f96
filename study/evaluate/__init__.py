"""`study run`: configs -> out-of-fold predictions, scores, paired comparisons and the summary."""
