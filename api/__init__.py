"""gapmap's faces: the command line (:mod:`api.cli`) and the HTTP service (:mod:`api.service`).

Both are thin over the engine (``coverage``) and the map builders (``maps``); the service never
imports the command line.
"""
