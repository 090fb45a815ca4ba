"""``flowspec lsp``: the validator, completion, hover and navigation inside an editor.

One module per idea: ``index`` finds every name a spec defines and refers to, ``analysis``
runs validation for one text, ``convert`` turns engine records into protocol ones, and
``completion``, ``hover`` and ``navigation`` answer the requests ``server`` wires up. Only
``server`` imports pygls, so the rest is tested as plain functions.
"""
