"""Language helpers every part may use: text folding for comparisons (core layer)."""
