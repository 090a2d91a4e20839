"""Vocabulary, no I/O: what every other layer speaks.

errors      the exception tree, rooted in SmsCampaignError
codes       the gateway's return codes, one table
statuses    every status and reason vocabulary, as StrEnums
reasons     the one table of status and reason texts (Chinese and English)
dtypes      the one text dtype, from load to report
columns     the order a person reads result columns in
settings    the one reader of SMSCAMPAIGN_* environment variables
display     small HTML tables for notebooks
allocator   handing freed memory back to the system
"""
