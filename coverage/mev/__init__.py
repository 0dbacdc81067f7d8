"""The Markterkundungsverfahren (Nr. 5.5 Gigabit-RL 2.0) and the BEAD challenge process on frames.

``procedure`` (settings, date checks, states), ``publication`` (area, published list, reply
template, cover sheet), ``replies`` (row checks and claims), ``reconcile`` (claims side by
side, conflicts, resolutions, resolved offers), ``outcome`` (eligible list and changes) and
``bead`` (challenges, rebuttals, decisions, NTIA submission files). No module here opens a
file: ``coverage.io.mev_files`` does.
"""
