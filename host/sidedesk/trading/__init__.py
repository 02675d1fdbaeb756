"""The trading shell: broker accounts, the books fed by their events, and the intents from the panel."""
