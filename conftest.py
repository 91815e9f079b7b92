"""pytest set-up shared by the unit tests and the notebooks that nbval re-executes.

Registers ``tests/nbval_numeric.py``, which makes nbval compare every number of a
notebook's outputs within its declared uncertainty (and every other character exactly);
being at the top of the repository, it applies however pytest is started here
(``python3 tasks.py test``, or ``pytest --nbval chapters/...`` by hand).
"""

pytest_plugins = ["tests.nbval_numeric"]
