"""The inbound pipeline, shared by every channel: how a payload a provider sent gets from an
edge (a webhook, a poller, a socket) into the core.

- `receive.py`: the door every edge calls (`inbound_receive`) and its `Receipt`; decides
  inline or queued (`inbound_mode`).
- `store.py`: where a payload is stored (the inbound log, `InboundRecord`).
- `process.py`: where a stored payload is processed (`inbound_process`): its channel's
  adapter takes it in, and the record is marked processed or failed.
- `registry.py` and `adapter.py`: which channel is processed how; each channel's own
  `process` lives in `<channel>/ingest.py`.
- `doorbell.py`: queued mode's bell and drain.

The retry task and the sweep are in `channels_ingest/tasks.py`; the statements written in SQL
are in `channels_ingest/raw_sql.py`.
"""
