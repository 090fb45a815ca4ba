"""The local executor: Argo's decisions, parallel attempts, durable progress, resume.

Modules, one idea each: ``decide`` (run/skip/omit/wait/error), ``assess`` (workflow phase),
``retry`` (retry verdicts), ``scheduler`` (graphlib-style ready/done), ``attempt`` (calling a
processor), ``outputs`` (typing what it returned), ``env`` and ``secrets`` (what it sees),
``logs`` (what it wrote), ``loop`` (the event loop tying them to a store), ``result`` (what a
run produced).
"""
