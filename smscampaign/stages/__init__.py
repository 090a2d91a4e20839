"""Data stages: a recipient list made ready for planning (imports ``wire`` and ``core``).

recipients      load whatever spreadsheet people have, every cell as exact text
cells           cells as text, Arrow buffers
shapes          normalize_numbers: the shaping of one number (shape_rules, shape_fast,
                shape_messy hold its rules and its two paths)
prefixes        the 7-digit prefix table, carrier, region, city, province
numbers         check_numbers: the verdict per row, duplicates, the phone column
templates       {column} placeholders, 【signature】, length as the gateway counts
review          review content as the gateway's reviewers would
keywords        opt-out keywords
"""
