"""The Markterkundungsverfahren (Nr. 5.5 Gigabit-RL 2.0) and the BEAD challenge process on frames.

``procedure`` (settings, date checks, states), ``publication`` (area, published list, reply
template, cover sheet), ``replies`` (row checks and claims), ``reconcile`` (claims side by
side, conflicts, resolutions, resolved offers), ``outcome`` (eligible list and changes) and
``bead`` (challenges, rebuttals, decisions -> post-challenge classes), ``bead_files`` (NTIA's
submission layouts) and ``bead_process`` (phases, windows and decision rules of a stored
challenge process). No module here opens a file: ``coverage.io.mev_files`` and
``coverage.io.mev_report_pdf`` do.
"""
