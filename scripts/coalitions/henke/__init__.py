"""Henke (2017), "The Politics of Diplomacy": who joins US-led multilateral coalitions.

* :mod:`.cases`    -- the hand-coded case files (operations and their contributors), validated on load;
* :mod:`.rebuild`  -- the rebuilt dataset (potential contributor x operation) from public data, and
  :class:`~.rebuild.HenkeCoding`, the coding choices the critiques imply;
* :mod:`.models`   -- model specifications as data (``config/models/henke.yaml``) and the runner;
* :mod:`.original` -- the original-archive track (her two Stata files, when they can be downloaded).

See ``README.md`` in this folder for what is the project's reading and what is hers.
"""
