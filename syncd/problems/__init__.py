"""Reading an operator's files and saying their problems: the toolkit that config.toml,
the mapping files and the gateways' options share.

- :mod:`.report`: the words of a problem (a value described, choices, an unknown key)
  and :class:`~syncd.problems.report.ProblemReport`, one file's problems in order found;
- :mod:`.toml_file`: a TOML file's document, or where and why it does not parse;
- :mod:`.table`: :class:`~syncd.problems.table.Table`, the strict pydantic model of a
  file's table, and checks tables share (a number in range, one of an enum's values);
- :mod:`.pydantic_errors`: pydantic's errors as :class:`~syncd.errors.Problem`, at the
  key the file names, in the project's words.
"""
