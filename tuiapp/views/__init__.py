"""Pure views of a run: state folded from its events, and rich renderables of it.

No Textual and no Keras here: the CLI and the UI both render through these.
"""
