"""study: framing, stance and sentiment classification of news coverage.

Reusable tool behind an open study of five articles about the U.S. DOJ's July 17, 2025
request to California sheriffs for data on non-citizen jail inmates.
"""

__version__ = "0.1.0"
