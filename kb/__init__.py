"""Knowledge and language: text processing, search, the answer bot and triage.

`kb` takes text and returns answers; it knows nothing of tickets or channels.
"""
