"""The headless CLI (typer): thin commands over the core. Never imports Textual or Keras itself."""
