"""`study report`, the top floor: the findings and sections of REPORT.md and index.html, read from every step below."""
