"""Human (or model) coders in the loop: Label Studio tasks out, coded labels back in.

- `hints`: one-line hints per choice, read from labels/CODEBOOK.md (the label sets themselves
  come from `study.codebook`, never re-typed here).
- `config_xml`: the Label Studio labeling configuration generated from the codebook.
- `sentences`: the sentences to code (corpus or a predictions table), their neighbours and
  the project marker that ties tasks to this project.
- `sampling`: which sentences to send (random, uncertain with diversity, all).
- `export` / `importer`: the two halves of the round trip.
- `audit`: gold labels the out-of-fold predictions doubt (cleanlab).
"""
