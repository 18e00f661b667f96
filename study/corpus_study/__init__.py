"""A study of another, larger corpus with the study's models: a random sample of its sentences for
coding, agreement of blind passes over that sample, the classifiers' accuracy against its gold,
whether saved predictions are current, and a report of `study estimate` share tables. Code for
one dataset lives beside its data (extensions/<name>/scripts/) and imports these."""
