"""Carrier tracking events: the signed webhook (`webhook.py`), each source's format turned into
normalised events (`normalise.py`), and a stored payload taken in (`ingest.py`)."""
