"""The stages of one cycle, in the order DESIGN.md §2 gives them; each one a module with
a typed input and output. :func:`syncd.engine.cycle.run_cycle` calls them in turn."""
