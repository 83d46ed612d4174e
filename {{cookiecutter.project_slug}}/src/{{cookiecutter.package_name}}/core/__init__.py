"""Cross-cutting pieces that know nothing of any feature."""
