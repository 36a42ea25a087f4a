"""What makes cycles fast, behind one seam (:class:`~syncd.engine.speed.seam.SpeedStrategy`).

The stages of a cycle call the strategy at four points: around the whole cycle, as they
open the listings, beside the listings, and to run pure work. The plain strategy does
nothing extra at any of them (the straight pipeline of DESIGN.md); the fast one, the
default, asks for the listings' first pages at once, applies pages as they come, decides
a first sync while it lists, pauses the garbage collector's full passes and runs
planning in a worker thread. Both take the same decisions.
"""
