"""Midjourney jobs: recording and submitting them, tracking them, and rendering their results."""
