"""Formatting, the ground floor of display: number formats, tables (Markdown, LaTeX, CSV, HTML), figures, blocks."""
