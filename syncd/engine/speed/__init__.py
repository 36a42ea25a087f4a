"""What makes cycles fast, behind one seam (:class:`~syncd.engine.speed.seam.SpeedStrategy`).

The stages of a cycle call the strategy at three points: around the whole cycle, to run
pure work, and beside the listings. The plain strategy does nothing extra at any of them
(the straight pipeline of DESIGN.md); the fast one, the default, applies pages as they
come, decides a first sync while it lists, pauses the garbage collector's full passes and
runs planning in a worker thread. Both take the same decisions.
"""
