"""Disclosure control for published tables: the cell key method (see README, Privacy).

* :mod:`coverage.privacy.ptable`: the perturbation table (maximum entropy, as ``ptable``).
* :mod:`coverage.privacy.cellkey`: record keys (keyed hash of ``address_id``) and cell keys.
* :mod:`coverage.privacy.tables`: perturbing the count columns of one table.
* :mod:`coverage.privacy.public`: the public tables of a run.
"""

from coverage.privacy.cellkey import MODULUS, CellKeyer, cell_keys
from coverage.privacy.ptable import CkmParams, PTable, ptable

__all__ = ["MODULUS", "CellKeyer", "CkmParams", "PTable", "cell_keys", "ptable"]
