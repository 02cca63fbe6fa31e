"""Weisiger (2016), "Exiting the Coalition": model specifications, the original-archive track and the rebuilt track."""
