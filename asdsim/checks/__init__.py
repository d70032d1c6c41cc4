"""Checks of the model itself: ``verify`` against queueing theory, ``regress`` against stored results."""
