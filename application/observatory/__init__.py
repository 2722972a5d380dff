"""The observatory: aggregate statistics of the network, small counts suppressed.

The osservatorio permanente never sees a single case. What it gets is built in
four steps, one module each:

- ``facts``: the non-personal facts of every referral and case (no text, no id);
- ``tables``: those facts counted into tables, rows by periods, with totals;
- ``suppression`` (with ``audit``): small counts hidden, and enough other cells
  hidden with them that no hidden count can be worked out from what is shown;
- ``publication``: what the API answers (JSON), and ``export`` the same as CSV.

docs/OBSERVATORY.md explains the rules in words for the observatory's staff.
"""
