"""Scores from verdicts and texts: jury accuracy with intervals, text overlap (BLEU, ROUGE, METEOR,
SBERT, AlignScore), subsets, lengths and spatial slots."""
