"""Cross-fitted predictions from a coded sample (`study crossfit`), for cross-prediction-powered inference."""
