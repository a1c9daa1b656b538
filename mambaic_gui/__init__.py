"""The MambaIC desktop app: a thin Qt layer (widgets, one worker thread, signals) over `mambaic`.

All codec work happens in `mambaic`; this package only schedules it off the GUI thread and shows
the results.
"""
