"""Rendering: number formats, display tables (Markdown, LaTeX, CSV, HTML), figures and the report."""
