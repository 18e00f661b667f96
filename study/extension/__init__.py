"""Corpus-scale extension studies kept apart from the five-article study (see extensions/)."""
