"""The run engine: store, events, launching detached worker processes. Never imports Keras here."""
