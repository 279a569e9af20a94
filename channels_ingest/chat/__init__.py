"""Web chat: the embeddable widget's websocket, visitor signatures, and replies pushed live."""
