"""Language helpers every part may use (core layer): text folding, words and terms, typos,
dates, catalogue values and the flags a question states, from general Spanish and English
resources and the catalogue, never from the wording of example questions."""
