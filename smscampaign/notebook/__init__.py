"""Notebook helpers (imports the layers below): the ``df.sms`` accessor, ``sc.view``, the demo.

accessor    the df.sms namespace
views       a results table that fits a notebook
demo        the demo campaign and the shipped notebooks
"""
