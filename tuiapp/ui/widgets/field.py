"""FieldInput: a text field that never loses or reorders keys, however fast they come.

Textual's Input inserts typed characters at once but runs its editing keys (Backspace,
arrows, Home...) as bindings, which are looked up after the key has bubbled through the
screen. Keys that arrive together (fast typing, a paste through the terminal, the pilot with
no pause) are then applied out of order: 8 Backspaces then `64,32` in `256,256` left `256,`.
Here every key the field has a binding for is handled in the field itself, in the order the
keys came, and a key typed into the field never reaches a screen or app action.
"""

from __future__ import annotations

from textual import events
from textual.widgets import Input


class FieldInput(Input):
    """An Input whose editing keys run in order with the typed characters."""

    async def _on_key(self, event: events.Key) -> None:
        if not event.is_printable:
            bindings = self._bindings.key_to_bindings.get(event.key)
            if bindings:
                event.stop()
                event.prevent_default()
                await self.run_action(bindings[0].action)
                return
        await super()._on_key(event)
