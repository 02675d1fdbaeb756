"""`sidedesk demo`: a working desk against the in-process Binance simulator, no account needed.

plan.py (pure choices: config, browser flags, price paths, passwords), preflight.py (what is
missing and how to fix it), simthread.py (the simulator on its own loop), hostpipe.py (talk to a
spawned host over native-messaging pipes), prepare.py (demo folder, config, vault, host
registration), browser.py (the interactive Chromium), session.py (the scripted headless run),
transcript.py (its JSON-lines record), command.py (the CLI shell that runs the steps).
"""
