"""gapmap's faces: the command line today, the HTTP service later."""
